"""RFC 9457 problem+json responses: one shape for every failure, and no stack trace ever leaves the process."""
from __future__ import annotations

import json
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://dealgate.dev/problems/"

_TYPES = {
    400: ("malformed-request", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Validation failed"),
    428: ("precondition-required", "Precondition required"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


def problem_response(status: int, detail: str | None = None, *, errors: dict[str, list[str]] | None = None,
                     headers: dict[str, str] | None = None, title: str | None = None, **extra: Any) -> Response:
    slug, default_title = _TYPES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title or default_title,
        "status": status,
        "detail": detail or default_title,
    }
    if status == 422 and not errors:  # a 422 always carries its errors map (the ValidationProblem schema)
        errors = {"_schema": [body["detail"]]}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into `{"customer.name": ["..."]}`: field -> messages."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, (dict, list)) and not _is_message_list(value):
                flat.update(flatten_messages(value, name))
            else:
                flat[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
    elif isinstance(messages, list):
        flat[prefix or "_schema"] = [str(m) for m in messages]
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _is_message_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def problem_from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = None
    detail = data.get("message") or error.description
    if "messages" in data:  # webargs / flask-smorest validation failures
        messages = data["messages"]
        # Drop the location level ("json", "query"...) unless more than one location failed.
        if isinstance(messages, dict) and len(messages) == 1:
            messages = next(iter(messages.values()))
        errors = flatten_messages(messages)
        if status == 422:
            detail = "The request did not pass validation; see errors."
    if "errors" in data and isinstance(data["errors"], dict):
        errors = data["errors"]
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    if status == 400 and detail and "JSON" in str(detail):
        detail = "The request body is not valid JSON."
    extra = data.get("extra") or {}  # only what a view put there on purpose (webargs adds schema objects)
    return problem_response(status, str(detail) if detail else None, errors=errors, headers=headers, **extra)
