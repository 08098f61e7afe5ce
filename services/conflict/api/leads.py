"""HTTP resource for the desk's lead board (issue 18): vendor leads as conflict reads them from deals.leads.v1,
each assignment with its reasons and its partner's tier and channel, and the lead figures."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.conflict import territory_handlers
from shared.auth import require_roles
from shared.http import problems

blp = Blueprint("lead_board", __name__, url_prefix="/v1/leads", description="Vendor leads, for the desk")
STATUSES = ("assigned", "unassigned", "accepted")


class LeadBoardQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class LeadBoardSchema(Schema):
    items = fields.List(fields.Dict(), metadata={"description": "leads newest first: status, customer, assignee, "
                                                               "attempts [{partner_id, tier, channel, basis, score, "
                                                               "reasons, outcome}]"})
    figures = fields.Dict(metadata={"description": "over every lead: by channel and tier, acceptance rate, "
                                                   "reassignments, time to accept"})


@blp.route("")
@blp.arguments(LeadBoardQuerySchema(), location="query")
@blp.response(200, LeadBoardSchema)
@problems(403)
def lead_board(query):
    """The vendor leads with why each went where it went (desk, admin)."""
    require_roles("desk", "admin")
    uow_factory = current_app.extensions["dealgate"].uow_factory
    items = territory_handlers.lead_board(uow=uow_factory(), status=query.get("status"), limit=query["limit"])
    everything = territory_handlers.lead_board(uow=uow_factory(), limit=100_000)
    return {"items": items, "figures": territory_handlers.lead_figures(everything)}
