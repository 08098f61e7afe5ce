"""HTTP resource for conflict cases: the channel desk's reads, claims and decisions."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.conflict import handlers
from services.conflict.api.schemas import CasePageSchema, CaseQuerySchema, CaseSchema, ResolveSchema
from shared.auth import require_roles, roles_required

blp = Blueprint("cases", __name__, url_prefix="/v1/cases", description="Conflict cases")
DESK = ("desk", "admin")


def _uow():
    return current_app.extensions["dealgate"].uow_factory()


@blp.route("")
class Cases(MethodView):
    @roles_required(*DESK)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, query):
        """List cases, filtered by queue and status."""
        require_roles(*DESK)
        items = handlers.list_cases(uow=_uow(), queue=query.get("queue"), status=query.get("status"),
                                    limit=query["limit"] + 1, after_id=query.get("cursor"))
        next_cursor = items[query["limit"] - 1].id if len(items) > query["limit"] else None
        return {"items": handlers.present(items[: query["limit"]], uow=_uow()), "next_cursor": next_cursor}


@blp.route("/<case_id>")
@blp.response(200, CaseSchema)
@blp.alt_response(404, description="Not found")
def get_case(case_id):
    """Read one case with its registrations, evidence and history."""
    require_roles(*DESK)
    return _act(lambda: handlers.get_case(case_id, uow=_uow()))


@blp.route("/<case_id>/claim", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.alt_response(409, description="Already claimed by someone else, or resolved")
def claim(case_id):
    """Claim a case for review."""
    principal = require_roles(*DESK)
    return _act(lambda: handlers.claim_case(case_id, by=principal.sub, uow=_uow()))


@blp.route("/<case_id>/resolve", methods=["POST"])
@roles_required(*DESK)
@blp.arguments(ResolveSchema)
@blp.response(200, CaseSchema)
@blp.alt_response(409, description="Already resolved, or the winner is not in the case")
def resolve(body, case_id):
    """Decide a case: award to one registration, reject all, or dismiss as not a conflict."""
    principal = require_roles(*DESK)
    return _act(lambda: handlers.resolve_case(case_id, decision=body["decision"], winner=body.get("winner"),
                                              note=body["note"], by=principal.sub, uow=_uow()))


def _act(action):
    try:
        return handlers.present([action()], uow=_uow())[0]
    except handlers.NotFound:
        abort(404, message="No such case.")
    except handlers.DomainError as exc:
        abort(409, message=str(exc))
