"""HTTP resource for deal registrations: thin views over the handlers."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.deals import handlers
from services.deals.api.schemas import CloseSchema, DealPageSchema, DealQuerySchema, DealSchema, DealSubmitSchema
from shared.auth import require_roles

blp = Blueprint("deals", __name__, url_prefix="/v1/deals", description="Deal registrations")
SUBMITTERS = ("partner", "marketplace", "sales")
READERS = SUBMITTERS + ("desk", "admin")


def _deals():
    return current_app.extensions["dealgate"]


def _public(registration) -> dict:
    document = registration.to_dict()
    document.pop("_submitted_by", None)
    return document


@blp.route("")
class Deals(MethodView):
    @blp.arguments(DealSubmitSchema)
    @blp.response(201, DealSchema)
    @blp.alt_response(409, description="Idempotency-Key reused with another body, or still in flight")
    @blp.alt_response(422, description="Validation failed")
    def post(self, fields):
        """Register a deal; the channel and partner come from the token."""
        principal = require_roles(*SUBMITTERS)
        fields = _plain(fields)
        try:
            registration = handlers.submit_deal(fields, principal=principal, uow=_deals().uow_factory())
        except handlers.ProductsUnavailable as exc:
            abort(422, message="Some products cannot be registered.", errors=exc.errors)
        return _public(registration), 201, {"Location": f"/v1/deals/{registration.id}"}

    @blp.arguments(DealQuerySchema, location="query")
    @blp.response(200, DealPageSchema)
    def get(self, query):
        """List registrations: your own, or all of them for desk and admin."""
        principal = require_roles(*READERS)
        items = handlers.list_deals(principal=principal, status=query.get("status"), limit=query["limit"] + 1,
                                    after_id=query.get("cursor"), uow=_deals().uow_factory())
        next_cursor = items[query["limit"] - 1].id if len(items) > query["limit"] else None
        return {"items": [_public(i) for i in items[: query["limit"]]], "next_cursor": next_cursor}


@blp.route("/<deal_id>")
@blp.response(200, DealSchema)
@blp.alt_response(404, description="Not found, or not yours")
def get_deal(deal_id):
    """Read one registration with its status history."""
    principal = require_roles(*READERS)
    return _act(lambda: handlers.get_deal(deal_id, principal=principal, uow=_deals().uow_factory()))


@blp.route("/<deal_id>/withdraw", methods=["POST"])
@blp.response(200, DealSchema)
def withdraw(deal_id):
    """Withdraw a registration."""
    principal = require_roles(*SUBMITTERS, "admin")
    return _act(lambda: handlers.withdraw_deal(deal_id, principal=principal, uow=_deals().uow_factory()))


@blp.route("/<deal_id>/extend", methods=["POST"])
@blp.response(200, DealSchema)
def extend(deal_id):
    """Extend the protection window, as the extension policy allows."""
    principal = require_roles(*SUBMITTERS)
    return _act(lambda: handlers.extend_deal(deal_id, principal=principal, policy=_deals().policy,
                                             uow=_deals().uow_factory()))


@blp.route("/<deal_id>/close", methods=["POST"])
@blp.arguments(CloseSchema)
@blp.response(200, DealSchema)
def close(body, deal_id):
    """Close an approved registration as won or lost."""
    principal = require_roles(*SUBMITTERS)
    return _act(lambda: handlers.close_deal(deal_id, body["outcome"], principal=principal,
                                            uow=_deals().uow_factory()))


def _act(action):
    try:
        return _public(action())
    except handlers.NotFound:
        abort(404, message="No such registration.")
    except handlers.DomainError as exc:
        abort(409, message=str(exc))


def _plain(value):
    """Dates and decimals from the schema become strings, as they travel in events."""
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
