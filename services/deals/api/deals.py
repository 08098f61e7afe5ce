"""HTTP resource for deal registrations: thin views over the handlers."""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
import uuid

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.deals import handlers
from services.deals.api.schemas import (
    AvailabilityQuerySchema,
    AvailabilitySchema,
    CloseSchema,
    DealAmendSchema,
    DealPageSchema,
    DealQuerySchema,
    DealSchema,
    DealSubmitSchema,
)
from services.deals.domain.commands import SubmitDeal
from services.deals.domain.idempotency import IdempotencyConflict, request_fingerprint
from services.deals.domain.model import DomainError, parse_iso
from services.deals.limits import RateLimited
from shared.auth import Principal, current_principal, require_roles, roles_required
from shared.http import problems

blp = Blueprint("deals", __name__, url_prefix="/v1/deals", description="Deal registrations")
SUBMITTERS = ("partner", "marketplace", "sales")
READERS = SUBMITTERS + ("desk", "admin")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Schemas are passed as instances: given a class, webargs builds a new schema (and its nested ones) per request.


def _deals():
    return current_app.extensions["dealgate"]


@blp.before_request
def limit_requests_per_partner():
    principal = current_principal()
    if principal is not None:
        try:
            _deals().request_limiter.hit(principal.owner_key)
        except RateLimited as exc:
            _too_many(exc)


def _too_many(exc: RateLimited):
    abort(429, message=str(exc), headers={"Retry-After": str(exc.retry_after_s)})


@blp.route("")
class Deals(MethodView):
    @roles_required(*SUBMITTERS)
    @blp.arguments(DealSubmitSchema())
    @blp.response(201, DealSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(409, description="Idempotency-Key reused with another body, or still in flight")
    @blp.alt_response(422, description="Validation failed")
    @blp.alt_response(429, description="Rate limited; see Retry-After")
    @problems(403)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                          "schema": {"type": "string", "maxLength": 255},
                          "description": "Kept 24 h per partner: the same body replays the first response."}])
    def post(self, command: SubmitDeal):
        """Register a deal; the channel and partner come from the token."""
        principal = require_roles(*SUBMITTERS)
        deals = _deals()
        key = _idempotency_key()
        if key is not None:
            command = dataclasses.replace(command, idempotency_key=key,
                                          request_fingerprint=request_fingerprint(request.get_json()))
        try:
            submission = handlers.submit_deal(command, principal=principal, limits=deals.limits,
                                              uow_factory=deals.uow_factory)
        except IdempotencyConflict as exc:
            abort(409, message=str(exc), headers={"Retry-After": "1"})
        except handlers.ProductsUnavailable as exc:
            abort(422, message="Some products cannot be registered.", errors=exc.errors)
        return _acknowledge(submission)

    @blp.arguments(DealQuerySchema(), location="query")
    @blp.response(200, DealPageSchema)
    @problems(429)
    def get(self, query):
        """List registrations, newest first: your own, or everyone's for desk and admin."""
        principal = require_roles(*READERS)
        limit = query["limit"]
        items = handlers.list_deals(principal=principal, limit=limit + 1, status=query.get("status"),
                                    channel=query.get("channel"), partner_id=query.get("partner_id"),
                                    after=_decode_cursor(query.get("cursor")), uow=_deals().uow_factory())
        next_cursor = _encode_cursor(items[limit - 1]) if len(items) > limit else None
        return {"items": [i.public_dict() for i in items[:limit]], "next_cursor": next_cursor}


@blp.route("/check", methods=["POST"])
@roles_required(*SUBMITTERS)
@blp.arguments(AvailabilityQuerySchema())
@blp.response(200, AvailabilitySchema)
@blp.alt_response(429, description="Rate limited per partner; see Retry-After")
@problems(403)
def check(body):
    """Can I register this customer for these products? available, claimed or review; never says by whom."""
    principal = require_roles(*SUBMITTERS)
    deals = _deals()
    try:
        availability = handlers.check_availability(body["customer"], body["products"], principal=principal,
                                                   limits=deals.limits, uow=deals.uow_factory())
    except RateLimited as exc:
        _too_many(exc)
    except handlers.ProductsUnavailable as exc:
        abort(422, message="Some products cannot be registered.", errors=exc.errors)
    return {"result": availability.result, "reason": availability.reason}


@blp.route("/<deal_id>")
class Deal(MethodView):
    @blp.response(200, DealSchema)
    @blp.alt_response(404, description="Not found, or not yours")
    @problems(429)
    def get(self, deal_id):
        """Read one registration with its status history."""
        principal = require_roles(*READERS)
        return _act(deal_id, lambda: handlers.get_deal(deal_id, principal=principal, uow=_deals().uow_factory()))

    @roles_required(*SUBMITTERS)
    @blp.arguments(DealAmendSchema())
    @blp.response(200, DealSchema)
    @blp.alt_response(404, description="Not found, or not yours")
    @blp.alt_response(409, description="In review, or in a final status")
    @blp.alt_response(412, description="If-Match names an old version")
    @blp.alt_response(428, description="If-Match is required")
    @problems(403, 429)
    def patch(self, changes, deal_id):
        """Edit a registration (If-Match required). New customer or products of an approved one are re-checked."""
        principal = require_roles(*SUBMITTERS)
        return _act(deal_id, lambda: handlers.amend_deal(deal_id, changes, principal=principal,
                                                         uow=_deals().uow_factory(),
                                                         if_match=_if_match(deal_id, principal)))


_NO_VERSION = '"-"'  # an ETag no registration ever has: the handler answers it with PreconditionFailed (412)


def _if_match(deal_id: str, principal: Principal) -> str | None:
    """If-Match as werkzeug parses it (lists, W/, quoting), reduced to the one ETag the handler compares under
    the row lock: "*", the strong tag sent, or, for a list, the current ETag when the list names it. Weak tags
    never match (RFC 9110 13.1.1: If-Match compares strongly). None when there is no If-Match (the handler then
    answers 428, once it has made sure the registration is the caller's to see)."""
    if "If-Match" not in request.headers:
        return None
    tags = request.if_match
    if tags.star_tag:
        return "*"
    strong = tags.as_set(include_weak=False)
    if len(strong) <= 1:
        return f'"{next(iter(strong))}"' if strong else _NO_VERSION
    # A list: read which version is current (404 if it is not yours); the handler checks it again under the lock.
    current = handlers.etag(handlers.get_deal(deal_id, principal=principal, uow=_deals().uow_factory()))
    return current if current.strip('"') in strong else _NO_VERSION


@blp.route("/<deal_id>/withdraw", methods=["POST"])
@blp.response(200, DealSchema)
@blp.alt_response(404, description="Not found, or not yours")
@blp.alt_response(409, description="Not active any more")
@problems(403, 429)
def withdraw(deal_id):
    """Withdraw a registration."""
    principal = require_roles(*SUBMITTERS, "admin")
    return _act(deal_id, lambda: handlers.withdraw_deal(deal_id, principal=principal, uow=_deals().uow_factory()))


@blp.route("/<deal_id>/extend", methods=["POST"])
@blp.response(200, DealSchema)
@blp.alt_response(404, description="Not found, or not yours")
@blp.alt_response(409, description="Outside the extension window, or no extension left")
@problems(403, 429)
def extend(deal_id):
    """Extend the protection window, as the extension policy allows."""
    principal = require_roles(*SUBMITTERS)
    return _act(deal_id, lambda: handlers.extend_deal(deal_id, principal=principal, policy=_deals().policy,
                                                      uow=_deals().uow_factory()))


@blp.route("/<deal_id>/close", methods=["POST"])
@roles_required(*SUBMITTERS)
@blp.arguments(CloseSchema())
@blp.response(200, DealSchema)
@blp.alt_response(404, description="Not found, or not yours")
@blp.alt_response(409, description="Not approved")
@problems(403, 429)
def close(body, deal_id):
    """Close an approved registration as won or lost."""
    principal = require_roles(*SUBMITTERS)
    return _act(deal_id, lambda: handlers.close_deal(deal_id, body["outcome"], principal=principal,
                                                     uow=_deals().uow_factory()))


@blp.route("/<deal_id>/erase", methods=["POST"])
@blp.response(200, DealSchema)
@blp.alt_response(404, description="No such registration")
@problems(403, 409, 429)
def erase(deal_id):
    """Erase a registration's personal data (admin): the contact's name and e-mail and the notes, here and in
    conflict. The history records who erased which fields when; the registration itself stays."""
    principal = require_roles("admin")
    return _act(deal_id, lambda: handlers.erase_deal(deal_id, principal=principal, uow=_deals().uow_factory()))


def _act(deal_id: str, action):
    if not _is_uuid(deal_id):
        abort(404, message="No such registration.")  # ids are UUIDs; anything else cannot exist
    try:
        registration = action()
    except handlers.NotFound:
        abort(404, message="No such registration.")
    except handlers.PreconditionRequired:
        abort(428, message="Send If-Match with the registration's current ETag (from its last read).")
    except handlers.PreconditionFailed:
        abort(412, message="The registration changed since you read it; read it again and retry.")
    except handlers.ProductsUnavailable as exc:
        abort(422, message="Some products cannot be registered.", errors=exc.errors)
    except DomainError as exc:
        abort(409, message=str(exc))
    return registration.public_dict(), 200, {"ETag": handlers.etag(registration)}


def _acknowledge(submission: handlers.Submission) -> Response:
    """201 with the registration exactly as first acknowledged; Location and ETag follow from its id and version."""
    response = Response(submission.acknowledged, status=201, mimetype="application/json")
    response.headers["Location"] = f"/v1/deals/{submission.deal_id}"
    response.headers["ETag"] = f'"{submission.version}"'
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        abort(422, message="The request did not pass validation; see errors.",
              errors={"Idempotency-Key": ["Use 1 to 255 visible ASCII characters, such as a UUID."]})
    return key


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _encode_cursor(last) -> str:
    """Opaque to clients: where the previous page ended, as (submitted_at, id)."""
    return base64.urlsafe_b64encode(f"{last.submitted_at.isoformat()}|{last.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, last_id = text.split("|")
        submitted_at = parse_iso(moment)
        if submitted_at.tzinfo is None or not _is_uuid(last_id):
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        abort(422, message="The request did not pass validation; see errors.",
              errors={"cursor": ["Use the next_cursor of a previous page."]})
    return submitted_at, last_id

