"""HTTP resource for conflict cases: the channel desk's reads, claims and decisions."""
from __future__ import annotations

import base64
import binascii
import datetime as dt

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.conflict import handlers
from services.conflict.api.schemas import CasePageSchema, CaseQuerySchema, CaseSchema, ResolveSchema
from services.conflict.domain.model import Case
from shared.auth import require_roles, roles_required
from shared.clock import iso, parse_iso
from shared.http import problems

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Conflict cases")
DESK = ("desk", "admin")


def _uow():
    return current_app.extensions["dealgate"].uow_factory()


@blp.route("")
class Cases(MethodView):
    @roles_required(*DESK)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CasePageSchema)
    @problems(403)
    def get(self, query):
        """List cases, filtered by queue and status."""
        require_roles(*DESK)
        items = handlers.list_cases(uow=_uow(), queue=query.get("queue"), statuses=query["status"],
                                    limit=query["limit"] + 1, after=_decode_cursor(query.get("cursor")))
        next_cursor = _encode_cursor(items[query["limit"] - 1]) if len(items) > query["limit"] else None
        return {"items": handlers.present(items[: query["limit"]], uow=_uow()), "next_cursor": next_cursor}


@blp.route("/<case_id>")
@blp.response(200, CaseSchema)
@blp.alt_response(404, description="Not found")
@problems(403)
def get_case(case_id):
    """Read one case with its registrations, evidence and history."""
    require_roles(*DESK)
    return _act(lambda: handlers.get_case(case_id, uow=_uow()))


@blp.route("/<case_id>/claim", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.alt_response(409, description="Already claimed by someone else, or resolved")
@problems(403)
def claim(case_id):
    """Claim a case for review."""
    principal = require_roles(*DESK)
    return _act(lambda: handlers.claim_case(case_id, by=principal.sub, uow=_uow()))


@blp.route("/<case_id>/resolve", methods=["POST"])
@roles_required(*DESK)
@blp.arguments(ResolveSchema)
@blp.response(200, CaseSchema)
@blp.alt_response(409, description="Already resolved, or the winner is not in the case")
@problems(403)
def resolve(body, case_id):
    """Decide a case: award to one registration, reject all, or dismiss as not a conflict."""
    principal = require_roles(*DESK)
    return _act(lambda: handlers.resolve_case(case_id, decision=body["decision"], winner=body.get("winner"),
                                              note=body["note"], by=principal.sub, uow=_uow()))


def _encode_cursor(last: Case) -> str:
    """Opaque to clients: where the previous page ended, as (opened_at, id)."""
    return base64.urlsafe_b64encode(f"{iso(last.opened_at)}|{last.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    try:
        moment, last_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        opened_at = parse_iso(moment)
        if opened_at.tzinfo is None or len(last_id) > 36:
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        abort(422, message="The request did not pass validation; see errors.",
              errors={"cursor": ["Use the next_cursor of a previous page."]})
    return opened_at, last_id


def _act(action):
    try:
        return handlers.present([action()], uow=_uow())[0]
    except handlers.NotFound:
        abort(404, message="No such case.")
    except handlers.DomainError as exc:
        abort(409, message=str(exc))
