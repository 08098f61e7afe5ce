"""GET /v1/audit on every service: its audit trail for desk and admin, oldest first, filtered by the subject the
entries are about (a deal, case or listing id) or by who acted."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from shared.audit import define_audit_tables, read_entries
from shared.auth import roles_required
from shared.http import problems

AUDIT_READERS = ("desk", "admin")
# The same tables in every service's database; a metadata of their own, so this module needs no service's code.
_ENTRIES, _CHAIN = define_audit_tables(sa.MetaData())


class AuditQuerySchema(Schema):
    subject = fields.String(validate=validate.Length(min=1, max=200),
                            metadata={"description": "Only entries about this aggregate: a deal, case or listing id"})
    actor = fields.String(validate=validate.Length(min=1, max=255),
                          metadata={"description": "Only entries of changes this token subject made"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{1,18}$", error="Use the next_cursor of a previous page."),
                           metadata={"description": "next_cursor of the previous page"})


class AuditActorSchema(Schema):
    subject = fields.String(required=True, metadata={"description": "The token's sub, or system:<source>"})
    role = fields.String(required=True, metadata={"description": "The token's role, or system"})


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    recorded_at = fields.String(required=True, metadata={"description": "UTC, when the change committed"})
    subject = fields.String(required=True, metadata={"description": "The aggregate the change is about"})
    action = fields.String(required=True, metadata={"description": "The event type of the change"})
    actor = fields.Nested(AuditActorSchema, required=True)
    correlation_id = fields.String(required=True, allow_none=True)
    event_id = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "State fields of the change (status, version...)"})
    seq = fields.Integer(required=True, allow_none=True,
                         metadata={"description": "Its place in the hash chain; null until sealed (about a second)"})
    hash = fields.String(required=True, allow_none=True)
    prev_hash = fields.String(required=True, allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


def audit_blueprint() -> Blueprint:
    blp = Blueprint("audit", __name__, url_prefix="/v1/audit",
                    description="The append-only audit trail of this service's state changes")

    @blp.route("")  # type: ignore[untyped-decorator]
    @roles_required(*AUDIT_READERS)
    @blp.arguments(AuditQuerySchema(), location="query")  # type: ignore[untyped-decorator]
    @blp.response(200, AuditPageSchema)  # type: ignore[untyped-decorator]
    @problems(403)
    def read_audit(query: dict[str, Any]) -> dict[str, Any]:
        """Read the audit trail (desk, admin): who changed what when, with its hash-chain seal."""
        limit = query["limit"]
        items = read_entries(current_app.extensions["dealgate"].engine, _ENTRIES, _CHAIN,
                             subject=query.get("subject"), actor=query.get("actor"),
                             after_id=int(query["cursor"]) if "cursor" in query else None, limit=limit + 1)
        next_cursor = str(items[limit - 1]["id"]) if len(items) > limit else None
        return {"items": items[:limit], "next_cursor": next_cursor}

    return blp
