"""Request and response schemas of cases and queues."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.conflict.domain.model import CASE_STATUSES, DECISIONS


class CaseSchema(Schema):
    id = fields.String()
    queue = fields.String()
    priority = fields.String()
    status = fields.String()
    sla_due_at = fields.String()
    sla_breached = fields.Boolean()
    opened_at = fields.String()
    registrations = fields.List(fields.Dict())
    evidence = fields.List(fields.Dict())
    recommendation = fields.Dict(allow_none=True)
    resolution = fields.Dict(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    rules_applied = fields.List(fields.Dict())
    rules_version = fields.Integer(allow_none=True)
    history = fields.List(fields.Dict())
    version = fields.Integer()


class CaseQuerySchema(Schema):
    queue = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=64))


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    next_cursor = fields.String(allow_none=True)


class ResolveSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    winner = fields.String(validate=validate.Length(max=64))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class QueueSchema(Schema):
    name = fields.String()
    open = fields.Integer()
    claimed = fields.Integer()
    oldest_open_age_s = fields.Float(allow_none=True)
    sla_breached = fields.Integer()
