"""HTTP resource for a partner's webhook endpoints and their deliveries (issue 14, Standard Webhooks)."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.deals import webhook_handlers as handlers
from services.deals.api.schemas import Text
from services.deals.domain.webhooks import EVENT_TYPES, MAX_URL_LENGTH, UnsafeUrl, WebhookError
from services.deals.limits import RateLimited
from services.deals.storage.webhooks import WebhookRepository
from shared.auth import current_principal, require_roles, roles_required
from shared.clock import parse_iso
from shared.http import problems

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks",
                description="Webhook endpoints: signed notices of your registrations' status changes")
OWNERS = ("partner", "marketplace", "sales")
T = TypeVar("T")


class _EventsField(fields.List):
    def __init__(self, **kwargs: Any):
        super().__init__(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                         validate=validate.Length(min=1, max=len(EVENT_TYPES)), **kwargs)


class WebhookCreateSchema(Schema):
    url = Text(MAX_URL_LENGTH, required=True, metadata={
        "description": "https only; plain http only in development or for a loopback host. Outside development "
                       "the host must resolve to public addresses only."})
    events = _EventsField(required=True, metadata={"description": f"Any of {', '.join(EVENT_TYPES)}"})


class WebhookPatchSchema(Schema):
    url = Text(MAX_URL_LENGTH)
    events = _EventsField()
    enabled = fields.Boolean(metadata={"description": "true enables a disabled endpoint again"})

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Send at least one of url, events, enabled.", "_schema")


class WebhookSchema(Schema):
    id = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    disabled_at = fields.String(allow_none=True)
    failing_since = fields.String(allow_none=True, metadata={"description": "first failure since the last success"})
    previous_secret_valid_until = fields.String(allow_none=True, metadata={
        "description": "after a rotation: until when the previous secret signs too"})
    created_at = fields.String()
    updated_at = fields.String()
    secret = fields.String(metadata={"description": "whsec_...: only in the answer that made it (create, rotate)"})


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema))


class AttemptSchema(Schema):
    at = fields.String()
    trigger = fields.String(metadata={"description": "scheduled or replay"})
    response_status = fields.Integer(allow_none=True)
    latency_ms = fields.Integer()
    error = fields.String(allow_none=True)
    response_excerpt = fields.String(allow_none=True, metadata={"description": "the first 512 bytes at most"})


class DeliverySchema(Schema):
    id = fields.String(metadata={"description": "the webhook-id header: the same on every attempt"})
    event_type = fields.String()
    deal_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "pending, succeeded or failed"})
    attempt_count = fields.Integer()
    next_attempt_at = fields.String(allow_none=True)
    created_at = fields.String()
    last_attempt_at = fields.String(allow_none=True)
    payload = fields.String(metadata={"description": "the body exactly as signed and sent"})
    attempts = fields.List(fields.Nested(AttemptSchema))


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.String(allow_none=True)


class DeliveryQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=200))


def _deals() -> Any:
    return current_app.extensions["dealgate"]


@blp.before_request
def limit_requests_per_partner() -> None:
    principal = current_principal()
    if principal is not None:
        try:
            _deals().request_limiter.hit(principal.owner_key)
        except RateLimited as exc:
            abort(429, message=str(exc), headers={"Retry-After": str(exc.retry_after_s)})


@contextmanager
def _repository() -> Iterator[WebhookRepository]:
    with _deals().engine.begin() as connection:
        yield WebhookRepository(connection)


def _partner() -> str:
    return require_roles(*OWNERS).owner_key


def _act(action: Callable[[WebhookRepository], T], *ids: str) -> T:
    if not all(_is_uuid(i) or i.startswith("msg_") for i in ids):
        abort(404, message="No such webhook endpoint or delivery.")
    try:
        with _repository() as repo:
            return action(repo)
    except handlers.NotFound:
        abort(404, message="No such webhook endpoint or delivery.")
    except UnsafeUrl as exc:
        abort(422, message="The request did not pass validation; see errors.", errors={"url": [str(exc)]})
    except WebhookError as exc:
        abort(409, message=str(exc))
    raise AssertionError("abort returns no value")


def _url_rules() -> dict[str, Any]:
    deals = _deals()
    return {"development": not deals.settings.is_production, "resolve": deals.webhook_resolver}


@blp.route("")
class Webhooks(MethodView):
    @roles_required(*OWNERS)
    @blp.arguments(WebhookCreateSchema())
    @blp.response(201, WebhookSchema)
    @problems(403, 409, 429, conflict="The partner has as many endpoints as allowed")
    def post(self, body: dict[str, Any]) -> Any:
        """Register an endpoint; the answer holds its signing secret, shown this once."""
        partner = _partner()
        settings = _deals().settings
        return _act(lambda repo: handlers.register_endpoint(
            repo, partner_id=partner, url=body["url"], events=body["events"],
            max_endpoints=settings.webhook_max_endpoints, **_url_rules()))

    @blp.response(200, WebhookListSchema)
    @problems(403, 429)
    def get(self) -> Any:
        """Your endpoints, with whether each is enabled and why not."""
        partner = _partner()
        with _repository() as repo:
            return {"items": [handlers.public_endpoint(e) for e in repo.endpoints(partner)]}


@blp.route("/<endpoint_id>")
class Webhook(MethodView):
    @blp.response(200, WebhookSchema)
    @problems(403, 429)
    def get(self, endpoint_id: str) -> Any:
        partner = _partner()
        return _act(lambda repo: handlers.public_endpoint(
            handlers.get_endpoint(repo, endpoint_id, partner_id=partner)), endpoint_id)

    @roles_required(*OWNERS)
    @blp.arguments(WebhookPatchSchema())
    @blp.response(200, WebhookSchema)
    @problems(403, 429)
    def patch(self, changes: dict[str, Any], endpoint_id: str) -> Any:
        """Change the URL or the events, or enable (or disable) the endpoint."""
        partner = _partner()
        return _act(lambda repo: handlers.update_endpoint(repo, endpoint_id, changes, partner_id=partner,
                                                          **_url_rules()), endpoint_id)

    @blp.response(204)
    @problems(403, 429)
    def delete(self, endpoint_id: str) -> Any:
        """Delete the endpoint and its delivery log; nothing more is sent to it."""
        partner = _partner()
        _act(lambda repo: handlers.delete_endpoint(repo, endpoint_id, partner_id=partner), endpoint_id)
        return None


@blp.route("/<endpoint_id>/rotate-secret", methods=["POST"])
@blp.response(200, WebhookSchema)
@problems(403, 429)
def rotate_secret(endpoint_id: str) -> Any:
    """A new secret; for 24 h every delivery carries signatures by both the new and the previous one."""
    partner = _partner()
    return _act(lambda repo: handlers.rotate_secret(repo, endpoint_id, partner_id=partner), endpoint_id)


@blp.route("/<endpoint_id>/deliveries")
@blp.arguments(DeliveryQuerySchema(), location="query")
@blp.response(200, DeliveryPageSchema)
@problems(403, 429)
def deliveries(query: dict[str, Any], endpoint_id: str) -> Any:
    """Messages to this endpoint, newest first, each with every attempt: when, which status, how long."""
    partner = _partner()
    limit = query["limit"]

    def page(repo: WebhookRepository) -> dict[str, Any]:
        handlers.get_endpoint(repo, endpoint_id, partner_id=partner)
        rows = repo.deliveries(endpoint_id, limit=limit + 1, before=_decode_cursor(query.get("cursor")))
        next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return {"items": [handlers.public_delivery(r) for r in rows[:limit]], "next_cursor": next_cursor}
    return _act(page, endpoint_id)


@blp.route("/<endpoint_id>/deliveries/<delivery_id>/replay", methods=["POST"])
@blp.response(202, DeliverySchema)
@problems(403, 409, 429, conflict="Still being retried, or the endpoint is disabled")
def replay(endpoint_id: str, delivery_id: str) -> Any:
    """Send a delivery again (same webhook-id and body, signed anew); the webhook worker sends it shortly."""
    partner = _partner()
    return _act(lambda repo: handlers.replay(repo, endpoint_id, delivery_id, partner_id=partner),
                endpoint_id, delivery_id)


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _encode_cursor(last: dict[str, Any]) -> str:
    created = handlers.iso(handlers.aware(last["created_at"]))
    return base64.urlsafe_b64encode(f"{created}|{last['id']}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    try:
        created, delivery_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|", 1)
        moment = parse_iso(created)
        if moment is not None:
            return moment, delivery_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    abort(422, message="The request did not pass validation; see errors.",
          errors={"cursor": ["Use the next_cursor of an earlier page."]})
    raise AssertionError("abort returns no value")
