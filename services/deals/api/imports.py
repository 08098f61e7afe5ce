"""HTTP resources for bulk work on registrations: a CSV import as a job with a per-row report, and the caller's
registrations exported as CSV."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from webargs.flaskparser import abort  # flask_smorest's abort, typed NoReturn

from services.deals import handlers
from services.deals.domain.imports import (
    COLUMN_HELP,
    IMPORT_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    ImportFileInvalid,
    export_lines,
)
from services.deals.domain.model import STATUSES
from services.deals.import_runner import start_import
from services.deals.limits import RateLimited
from services.deals.storage.imports import ImportStore
from shared.auth import current_principal, require_roles, roles_required
from shared.clock import iso
from shared.http import accepts_upload, problems
from shared.logging import current_correlation_id

blp = Blueprint("deal_imports", __name__, url_prefix="/v1/deals",
                description="Bulk import (CSV, as a job) and export (CSV) of registrations")
SUBMITTERS = ("partner", "marketplace", "sales")
READERS = SUBMITTERS + ("desk", "admin")
CSV_TYPES = ("text/csv", "application/csv")
FORM_TYPE = "multipart/form-data"  # a browser form, or a generated client: the file in the part named "file"
EXPORT_PAGE = 500
_COLUMNS_DOC = "\n".join(f"- `{name}`{' (required)' if name in REQUIRED_COLUMNS else ''}: {COLUMN_HELP[name]}"
                         for name in IMPORT_COLUMNS)


def _deals():
    return current_app.extensions["dealgate"]


@blp.before_request
def limit_requests_per_partner():
    principal = current_principal()
    if principal is not None:
        try:
            _deals().request_limiter.hit(principal.owner_key)
        except RateLimited as exc:
            abort(429, message=str(exc), headers={"Retry-After": str(exc.retry_after_s)})


class ImportJobSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued, running or done"})
    filename = fields.String(allow_none=True)
    total_rows = fields.Integer(required=True)
    processed_rows = fields.Integer(required=True)
    created_rows = fields.Integer(required=True)
    replayed_rows = fields.Integer(required=True)
    failed_rows = fields.Integer(required=True)
    created_at = fields.String(required=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)


class ImportRowSchema(Schema):
    line = fields.Integer(required=True, metadata={"description": "The row's line in the file (the header is 1)"})
    status = fields.String(required=True, metadata={"description": "pending, created, replayed or failed"})
    idempotency_key = fields.String(required=True)
    deal_id = fields.String(allow_none=True)
    deal_status = fields.String(allow_none=True, metadata={"description": "The registration's status now"})
    http_status = fields.Integer(allow_none=True, metadata={
        "description": "What POST /v1/deals would have answered: 201, or 409/422 for a failed row"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), allow_none=True,
                         metadata={"description": "For a failed row: each column (or row) and its messages"})


class ImportReportSchema(ImportJobSchema):
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as ?cursor= for the next rows of the report"})


class ImportReportQuerySchema(Schema):
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=10000))
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{1,6}$", error="Use the next_cursor of the report."))


class ExportQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))


@blp.route("/import", methods=["POST"])
@roles_required(*SUBMITTERS)
@accepts_upload(*CSV_TYPES, FORM_TYPE, max_bytes=MAX_FILE_BYTES)
@blp.doc(requestBody={"required": True, "description": (
    f"A CSV file in UTF-8 with a header row, at most {MAX_ROWS:,} rows, each a registration as POST /v1/deals "
    f"takes it. Columns (any order; empty cells are absent fields):\n{_COLUMNS_DOC}"),
    "content": {FORM_TYPE: {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}}}},
    parameters=[{"in": "header", "name": "X-Filename", "required": False, "schema": {"type": "string",
                                                                                    "maxLength": 255},
                 "description": "The file's name, shown in the report"}])
@blp.response(202, ImportJobSchema, headers={"Location": {"schema": {"type": "string"}}})
@problems(403, 429, unprocessable_entity="The file cannot be imported (not UTF-8, not well-formed CSV, a missing "
                                         "or unknown column, no rows or too many, a repeated idempotency key); "
                                         "nothing was taken",
          unsupported_media_type="Send the file as text/csv or multipart/form-data")
def import_deals():
    """Import registrations from a CSV file: 202 with the job; GET its Location for progress and each row's
    result. Each row is submitted as POST /v1/deals would be, with its own idempotency key."""
    principal = require_roles(*SUBMITTERS)
    if request.mimetype == FORM_TYPE:
        upload = request.files.get("file")
        if upload is None:
            abort(422, message="The file cannot be imported; nothing was taken. See errors.",
                  errors={"file": ["Send the CSV file in the form part named 'file'."]})
        raw, charset, filename = upload.read(), upload.mimetype_params.get("charset"), upload.filename
    elif request.mimetype in CSV_TYPES:
        raw, charset = request.get_data(cache=False), request.mimetype_params.get("charset")
        filename = request.headers.get("X-Filename")
    else:
        abort(415, message="Send the file as text/csv (UTF-8), or as the part 'file' of multipart/form-data.")
    try:
        job = start_import(raw, charset=charset, filename=filename, principal=principal,
                           store=ImportStore(_deals().engine), correlation_id=current_correlation_id())
    except ImportFileInvalid as exc:
        abort(422, message="The file cannot be imported; nothing was taken. See errors.", errors=exc.errors)
    return _job_view(job), 202, {"Location": f"/v1/deals/import/{job['id']}"}


@blp.route("/import/<job_id>")
@blp.arguments(ImportReportQuerySchema(), location="query")
@blp.response(200, ImportReportSchema)
@problems(429, not_found="No such import job, or not yours")
def import_report(query, job_id):
    """An import's progress and each row's result (created, replayed, or failed with its errors), in file order."""
    principal = require_roles(*READERS)
    store = ImportStore(_deals().engine)
    job = store.job(job_id) if _is_uuid(job_id) else None
    if job is None or not (principal.sees_everything or job["owner_key"] == principal.owner_key):
        abort(404, message="No such import job.")
    limit = query["limit"]
    rows = store.rows(job_id, after_line=int(query.get("cursor", "0")), limit=limit + 1)
    next_cursor = str(rows[limit - 1]["line"]) if len(rows) > limit else None
    return {**_job_view(job), "rows": rows[:limit], "next_cursor": next_cursor}


@blp.route("/export.csv")
@blp.arguments(ExportQuerySchema(), location="query")
@blp.doc(responses={"200": {
    "description": "Your registrations as CSV (desk and admin: everyone's), newest first; cells that would start a "
                   "formula begin with an apostrophe",
    "content": {"text/csv": {"schema": {"type": "string"}}}}})
@problems(429)
def export_deals(query):
    """Export registrations as CSV, streamed: your own, or everyone's for desk and admin."""
    principal = require_roles(*READERS)
    deals = _deals()

    def registrations() -> Iterator[dict[str, Any]]:
        after: tuple[dt.datetime, str] | None = None
        while True:
            page = handlers.list_deals(principal=principal, limit=EXPORT_PAGE, status=query.get("status"),
                                       after=after, uow=deals.uow_factory())
            for registration in page:
                yield registration.public_dict()
            if len(page) < EXPORT_PAGE:
                return
            after = (page[-1].submitted_at, page[-1].id)

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    response = Response(stream_with_context(export_lines(registrations())), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="registrations-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _job_view(job: dict[str, Any]) -> dict[str, Any]:
    return {name: job[name] for name in ("id", "status", "filename", "total_rows", "processed_rows", "created_rows",
                                         "replayed_rows", "failed_rows")} | {
        name: iso(job[name]) if job.get(name) else None for name in ("created_at", "started_at", "finished_at")}


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False

