"""HTTP resource for vendor leads (issue 18): admin and sales create them; partners list, accept and decline the ones
assigned to them; admin, desk and sales read all, with each assignment's reasons, and the lead analytics."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from services.deals import lead_handlers
from services.deals.api.schemas import CustomerSchema, MoneySchema, Text, _expected_close_is_plausible, _products
from services.deals.domain.leads import STATUSES, LeadError
from services.deals.domain.model import parse_iso
from services.deals.lead_settings import lead_policy
from shared.auth import require_roles, roles_required
from shared.http import problems

blp = Blueprint("leads", __name__, url_prefix="/v1/leads", description="Vendor leads")
PARTNERS = ("partner", "marketplace")
READERS = ("admin", "desk", "sales") + PARTNERS


def _deals():
    return current_app.extensions["dealgate"]


class LeadInSchema(Schema):
    customer = fields.Nested(CustomerSchema, required=True)
    products = _products(required=True)
    notes = Text(2000, multiline=True, allow_none=True)
    sla_hours = fields.Float(validate=validate.Range(min=0.0001, max=2000),
                             metadata={"description": "this lead's time to accept; default DEALS_LEAD_SLA_HOURS "
                                                      "(48 business hours)"})


class AcceptSchema(Schema):
    amount = fields.Nested(MoneySchema, metadata={"description": "default 0.00 USD until the partner sizes it"})
    expected_close = fields.Date(validate=_expected_close_is_plausible)
    opportunity_name = Text(200, allow_none=True)


class DeclineSchema(Schema):
    reason = Text(500, required=True)


class LeadQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    assignee = Text(100, metadata={"description": "admin, desk and sales; partners always see their own"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class LeadSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    customer = fields.Dict()
    products = fields.List(fields.String())
    notes = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.String()
    assignee = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)
    desk_reason = fields.String(allow_none=True)
    declines = fields.Integer(allow_none=True)
    attempts = fields.List(fields.Dict(), metadata={"description": "each assignment: partner_id, basis, score, "
                                                                   "reasons [{factor, value, points, basis}], outcome"})
    registration_id = fields.String(allow_none=True)
    sla_hours = fields.Float(allow_none=True)
    version = fields.Integer()


class LeadPageSchema(Schema):
    items = fields.List(fields.Nested(LeadSchema))
    next_cursor = fields.String(allow_none=True)


class LeadAnalyticsSchema(Schema):
    leads = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_basis = fields.Dict(keys=fields.String(), values=fields.Integer(),
                           metadata={"description": "assignments by why: holder, named_account, score"})
    by_channel = fields.Dict(metadata={"description": "per assignee channel: assigned, accepted, declined, expired"})
    by_tier = fields.Dict(metadata={"description": "per assignee tier: assigned, accepted, declined, expired"})
    acceptance_rate = fields.Float(allow_none=True, metadata={"description": "accepted leads / leads"})
    attempt_acceptance_rate = fields.Float(allow_none=True,
                                           metadata={"description": "accepted / answered or expired assignments"})
    reassignments = fields.Integer()
    time_to_accept_hours = fields.Dict()


class AcceptedSchema(Schema):
    lead = fields.Nested(LeadSchema)
    registration = fields.Dict()


@blp.route("")
class Leads(MethodView):
    @roles_required("admin", "sales")
    @blp.arguments(LeadInSchema())
    @blp.response(201, LeadSchema)
    @blp.alt_response(422, description="Validation failed, or a product is not published")
    @problems(403)
    def post(self, body):
        """Create a vendor lead; it is assigned at once (holder, named account, score) or waits for the desk."""
        principal = require_roles("admin", "sales")
        deals = _deals()
        try:
            lead = lead_handlers.create_lead(body["customer"], body["products"], body.get("notes"),
                                             principal=principal, policy=lead_policy(deals.settings),
                                             sla_hours=body.get("sla_hours"), uow=deals.uow_factory())
        except lead_handlers.InvalidLead as exc:
            abort(422, message="The lead cannot be created.", errors=exc.errors)
        return lead.to_dict(), 201, {"Location": f"/v1/leads/{lead.id}"}

    @blp.arguments(LeadQuerySchema(), location="query")
    @blp.response(200, LeadPageSchema)
    def get(self, query):
        """A partner's assigned leads; admin, desk and sales see every lead, newest first."""
        principal = require_roles(*READERS)
        limit = query["limit"]
        items = lead_handlers.list_leads(principal=principal, uow=_deals().uow_factory(), status=query.get("status"),
                                         assignee=query.get("assignee"), limit=limit + 1,
                                         after=_decode_cursor(query.get("cursor")))
        next_cursor = None
        if len(items) > limit:
            last = items[limit - 1]
            next_cursor = base64.urlsafe_b64encode(f"{last.created_at.isoformat()}|{last.id}".encode()).decode()
        return {"items": [lead_handlers.view(lead, principal) for lead in items[:limit]], "next_cursor": next_cursor}


@blp.route("/analytics")
@blp.response(200, LeadAnalyticsSchema)
@problems(403)
def analytics():
    """Leads by the assignee's channel and tier, acceptance rate, reassignments and time to accept."""
    require_roles("admin", "desk", "sales")
    return lead_handlers.lead_analytics(uow=_deals().uow_factory())


@blp.route("/<lead_id>")
@blp.response(200, LeadSchema)
@blp.alt_response(404, description="Not found, or not assigned to you")
def get_lead(lead_id):
    """Read one lead: partners only while it is theirs, without who had it before."""
    principal = require_roles(*READERS)
    return lead_handlers.view(_act(lead_id, lambda: lead_handlers.get_lead(lead_id, principal=principal,
                                                                           uow=_deals().uow_factory())), principal)


@blp.route("/<lead_id>/accept", methods=["POST"])
@roles_required(*PARTNERS, "sales")
@blp.arguments(AcceptSchema())
@blp.response(200, AcceptedSchema)
@blp.alt_response(404, description="Not found, or not assigned to you")
@blp.alt_response(409, description="Not assigned to you any more")
@problems(403)
def accept(terms, lead_id):
    """Accept the lead: it becomes an approved, protected registration of yours (source vendor_lead)."""
    principal = require_roles(*PARTNERS, "sales")
    deals = _deals()
    if terms.get("expected_close"):
        terms["expected_close"] = terms["expected_close"].isoformat()
    lead, registration = _act(lead_id, lambda: lead_handlers.accept_lead(
        lead_id, terms, principal=principal, deal_policy=deals.policy, uow=deals.uow_factory()))
    return {"lead": lead_handlers.view(lead, principal), "registration": registration.public_dict()}


@blp.route("/<lead_id>/decline", methods=["POST"])
@roles_required(*PARTNERS, "sales")
@blp.arguments(DeclineSchema())
@blp.response(200, LeadSchema)
@blp.alt_response(404, description="Not found, or not assigned to you")
@blp.alt_response(409, description="Not assigned to you any more")
@problems(403)
def decline(body, lead_id):
    """Decline the lead with a reason; it goes to the next partner, or to the desk after too many declines."""
    principal = require_roles(*PARTNERS, "sales")
    deals = _deals()
    lead = _act(lead_id, lambda: lead_handlers.decline_lead(lead_id, body["reason"], principal=principal,
                                                            policy=lead_policy(deals.settings),
                                                            uow=deals.uow_factory()))
    return lead_handlers.view(lead, principal)


class AssignSchema(Schema):
    partner_id = Text(100, required=True, metadata={"description": "a partner with a profile, or direct"})


@blp.route("/<lead_id>/assign", methods=["POST"])
@roles_required("admin", "desk")
@blp.arguments(AssignSchema())
@blp.response(200, LeadSchema)
@blp.alt_response(404, description="No such lead")
@blp.alt_response(409, description="Not in the desk's queue")
@blp.alt_response(422, description="No such partner")
@problems(403)
def assign(body, lead_id):
    """Give a lead waiting in the desk's queue to a partner (admin, desk)."""
    principal = require_roles("admin", "desk")
    deals = _deals()
    try:
        lead = _act(lead_id, lambda: lead_handlers.assign_by_hand(lead_id, body["partner_id"], principal=principal,
                                                                  policy=lead_policy(deals.settings),
                                                                  uow=deals.uow_factory()))
    except lead_handlers.InvalidLead as exc:
        abort(422, message="The lead cannot be assigned.", errors=exc.errors)
    return lead_handlers.view(lead, principal)


def _act(lead_id: str, action):
    try:
        if str(uuid.UUID(lead_id)) != lead_id:
            raise ValueError(lead_id)
    except ValueError:
        abort(404, message="No such lead.")
    try:
        return action()
    except lead_handlers.NotFound:
        abort(404, message="No such lead.")
    except LeadError as exc:
        abort(409, message=str(exc))


def _decode_cursor(cursor: str | None) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, lead_id = text.split("|", 1)
        parsed = parse_iso(created) if "T" in created else None
        if parsed is None:
            raise ValueError(cursor)
        return parsed, lead_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        abort(422, message="The request did not pass validation; see errors.", errors={"cursor": ["Not a cursor."]})
    return None
