"""What every service's Flask app has in common: problem+json, auth, limits, probes, metrics and OpenAPI."""
from __future__ import annotations

import copy
import http
import re
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

import psycopg
import sqlalchemy as sa
import structlog
from apispec import BasePlugin
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask_smorest import Api, abort
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from prometheus_client import Counter, Histogram
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from shared.apidocs import docs_blueprint
from shared.audit import bind_actor, unbind_actor
from shared.auth import TokenVerifier, allow_anonymous, authenticate_request
from shared.config import ConfigError, Settings
from shared.errors import PROBLEM_CONTENT_TYPE, problem_from_http_exception, problem_response
from shared.kafka_metrics import depth_collectors
from shared.logging import bind_correlation_id, configure_logging, unbind_request_context
from shared.metrics import OutboxCollector, http_metrics, render_latest
from shared.retention import RetentionCollector

log = structlog.get_logger(__name__)
MAX_BODY_BYTES = 1024 * 1024
# Our deepest body (a listing's offers[].pricing.price.amount) nests 5 levels; 32 leaves room and bounds the rest.
MAX_JSON_DEPTH = 32
# A surrogate escaped in JSON text (\uD800-\uDFFF) or encoded as UTF-8 bytes (ED A0-BF), which Python decodes.
_SURROGATE_HINT = re.compile(rb"\\u[dD][89abcdefABCDEF]|\xed[\xa0-\xbf]")
CORRELATION_HTTP_HEADER = "X-Correlation-ID"
# A database that cannot be reached (or is restarting) answers 503 with Retry-After, never 500. SQLAlchemy wraps
# what its statements raise, but not what a pool checkout or a raw DB-API connection (the catalog revision) does.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError,
    psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ValidationProblemSchema(ProblemSchema):
    """A 422: the problem details with `errors`, a map of each failing field (dotted: `customer.name`) to its
    messages."""

    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


PROBLEM_SCHEMA_NAME = "Problem"
VALIDATION_PROBLEM_SCHEMA_NAME = "ValidationProblem"
# What each error status means (SPEC section 3); an operation may say more precisely why it answers one.
PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: a body that is not valid JSON, nests too deep, or NUL characters anywhere",
    401: "No bearer token where one is needed, or a bad one",
    403: "Your role may not do this",
    404: "Not found, or not yours to see",
    409: "The resource's state does not allow this",
    412: "If-Match names another version",
    413: "The body is larger than 1 MiB",
    415: "The body is not application/json",
    422: "Validation failed: `errors` maps each field to its messages",
    428: "If-Match is required",
    429: "Too many requests; wait as long as Retry-After says",
    503: "A database is briefly unavailable; nothing was stored, retry after Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying"}}
_BODY_METHODS = ("post", "put", "patch")


def problem_doc(status: int, description: str | None = None) -> dict[str, Any]:
    """One error response as the OpenAPI document states it: problem+json with the Problem schema (a 422 with
    ValidationProblem), and Retry-After where the SPEC promises it."""
    doc: dict[str, Any] = {
        "description": description or PROBLEM_DESCRIPTIONS.get(status) or http.HTTPStatus(status).phrase,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": (VALIDATION_PROBLEM_SCHEMA_NAME if status == 422
                                                      else PROBLEM_SCHEMA_NAME)}},
    }
    if status in (429, 503):
        doc["headers"] = dict(_RETRY_AFTER)
    return doc


ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def problems(*statuses: int, **described: str) -> Callable[[ViewT], ViewT]:
    """Document the error statuses an operation answers beyond those every operation can (which
    ProblemResponsesPlugin adds by itself): `@problems(403, 404, 409, conflict="Already resolved")`.

    A keyword names a status by its HTTPStatus name in lower case (`not_found`, `conflict`, ...) to give that
    status this operation's own description. Put it anywhere among a flask-smorest view's decorators."""
    descriptions = {int(http.HTTPStatus[name.upper()]): text for name, text in described.items()}
    wanted = dict.fromkeys([*statuses, *descriptions])

    def decorate(view: ViewT) -> ViewT:
        apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        for status in wanted:
            responses.setdefault(status, []).append(
                {"description": descriptions.get(status) or PROBLEM_DESCRIPTIONS.get(status)
                 or http.HTTPStatus(status).phrase,
                 "schema": VALIDATION_PROBLEM_SCHEMA_NAME if status == 422 else PROBLEM_SCHEMA_NAME,
                 "content_type": PROBLEM_CONTENT_TYPE,
                 **({"headers": dict(_RETRY_AFTER)} if status in (429, 503) else {})})
        cast(Any, view)._apidoc = apidoc  # where flask-smorest keeps a view's documentation
        return view
    return decorate


class ProblemResponsesPlugin(BasePlugin):
    """Documents every 4xx/5xx response of every operation as application/problem+json, as it is served, and
    adds the error statuses any operation can answer, so that no `default` response has to stand in for them:
    400, 401 and 503 everywhere; 413, 415 and 422 where a body may be sent; 422 where the query is parsed; 404
    where the path names a resource. What only some operations answer (403, 409, 412, 428, 429, a 404 of a
    collection) each operation documents with @problems(...)."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            for status in self._always(method, path or "", operation):
                if status not in responses and str(status) not in responses:
                    responses[status] = problem_doc(status)
            responses.setdefault(414, self._request_line_too_long())
            for status, response in list(responses.items()):
                if (str(status)[0] not in "45" or int(status) == 414 or not isinstance(response, dict)
                        or "$ref" in response):
                    continue
                content = response.get("content")
                if not content:
                    documented = problem_doc(int(status), response.get("description"))
                    response.update({key: value for key, value in documented.items() if key not in response})
                    response["content"] = documented["content"]
                elif "application/json" in content:
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
                if int(status) == 422:  # a 422 always carries its errors map
                    for media in response["content"].values():
                        if media.get("schema") in (PROBLEM_SCHEMA_NAME, ProblemSchema):
                            media["schema"] = VALIDATION_PROBLEM_SCHEMA_NAME

    @staticmethod
    def _request_line_too_long() -> dict[str, Any]:
        """gunicorn, before the app, refuses a request line over 4 KiB (a long path or query) with its own page."""
        return {"description": "The request line (path and query) is longer than the server reads (4 KiB); "
                               "answered by the HTTP server as text/html",
                "content": {"text/html": {}}}  # gunicorn's page: no schema to hold it to

    @staticmethod
    def _always(method: str, path: str, operation: dict[str, Any]) -> list[int]:
        statuses = [400, 401, 503]
        if method in _BODY_METHODS:
            statuses += [413, 415, 422]
        if any(isinstance(p, dict) and p.get("in") == "query" for p in operation.get("parameters") or []):
            statuses.append(422)
        if "{" in path:
            statuses.append(404)
        return statuses


class ProblemApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api, answering (and documenting) every HTTP error as application/problem+json.

    No operation has a `default` response: each lists the statuses it can answer (ProblemResponsesPlugin and
    @problems), so a generated client parses each into its Problem, and a contract check can tell an
    undocumented status from a documented one."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException) -> Response:
        return problem_from_http_exception(error)

    def _register_responses(self) -> None:
        self.spec.components.schema(PROBLEM_SCHEMA_NAME, schema=ProblemSchema)
        self.spec.components.schema(VALIDATION_PROBLEM_SCHEMA_NAME, schema=ValidationProblemSchema)
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = (VALIDATION_PROBLEM_SCHEMA_NAME if status == 422 else PROBLEM_SCHEMA_NAME)
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


class ServiceComponents(Protocol):
    """What a service's bootstrap() gives its API: settings, database and token checker."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def tokens(self) -> TokenVerifier: ...


ComponentsT = TypeVar("ComponentsT", bound=ServiceComponents)


def create_service_app(config: Mapping[str, Any] | None, *, settings_class: type[Settings], title: str,
                       build: Callable[[Any], ComponentsT], components: ComponentsT | None = None,
                       consumed_topics: tuple[str, ...] = (),
                       service_metrics: Callable[[ComponentsT], Collector] | None = None,
                       ) -> tuple[Flask, ProblemApi, ComponentsT]:
    """What every service's create_app() does first: settings, logging, its components, probes and metrics.

    `config` may carry SETTINGS (a ready settings object, for tests) and any Flask config overrides.
    The components end up in app.extensions["dealgate"] for the views. `service_metrics` builds the service's
    own collector for /metrics from its components, on first scrape (in the worker process, like Kafka's).
    """
    overrides = dict(config or {})
    try:
        settings = overrides.pop("SETTINGS", None) or settings_class.from_env()
    except ConfigError as exc:
        # One line naming the variable. Exit status 4 is gunicorn's "the app failed to load", which stops the
        # master as well instead of booting worker after worker (deploy/gunicorn.conf.py checks before forking).
        print(f"dealgate {settings_class.SERVICE}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(4) from None
    configure_logging(settings.service, settings.log_level, settings.log_json)
    components = components or build(settings)
    kafka = components.settings.kafka_bootstrap_servers
    kafka_collectors = depth_collectors(kafka, group=components.settings.consumer_group if consumed_topics else None,
                                        consumed_topics=consumed_topics, security=components.settings.kafka_security)
    own: list[Collector] = []

    def collectors() -> list[Collector]:
        if not own:
            own.append(OutboxCollector(components.engine, settings.service))
            own.append(RetentionCollector(components.engine, settings.service))
            if service_metrics is not None:
                own.append(service_metrics(components))
        return [*kafka_collectors(), *own]

    # Ready means able to answer: the database. Kafka is not part of it: the outbox takes every write while the
    # broker is away, and a load balancer that dropped every instance then would turn an outage into a total one.
    # /healthz shows the broker's state as detail, /metrics as dealgate_kafka_up and the lag and DLQ gauges.
    app, api = create_base_app(
        service=settings.service, title=title, tokens=components.tokens,
        readiness={"database": database_check(components.engine)}, health_details={"kafka": kafka_check(kafka)},
        config_overrides=overrides, metrics_collectors=collectors,
    )
    app.extensions["dealgate"] = components
    from shared.audit_api import audit_blueprint  # it documents itself with problems() from this module

    api.register_blueprint(audit_blueprint())  # GET /v1/audit: every service's audit trail, desk and admin
    return app, api, components


def create_base_app(*, service: str, title: str, tokens: TokenVerifier, readiness: dict[str, Callable[[], None]],
                    config_overrides: dict[str, Any] | None = None,
                    metrics_collectors: Callable[[], Sequence[Collector]] | None = None,
                    health_details: dict[str, Callable[[], None]] | None = None) -> tuple[Flask, ProblemApi]:
    """`readiness` decides /readyz (503 when one fails); `health_details` are only reported by /healthz."""
    # The import name must be the service's real package: a bare "conflict" can resolve to a namespace
    # package (a tests/ folder, say), and Flask derives its root path from it.
    app = Flask(f"services.{service}")
    app.config["DEALGATE_SERVICE"] = service
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    app.config.update(config_overrides or {})
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [ProblemResponsesPlugin()]})
    requests_total, request_seconds = http_metrics()
    # Label children by their label values: prometheus-client's labels() takes a lock and validates the
    # labels on every call, which was a visible share of a cheap request.
    counted: dict[tuple[str, str, int], Counter] = {}
    timed: dict[tuple[str, str], Histogram] = {}

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        bind_correlation_id(request.headers.get(CORRELATION_HTTP_HEADER))
        upload = _upload_of(app.view_functions.get(request.endpoint) if request.endpoint else None)
        if upload is not None and request.mimetype in upload[0]:
            request.max_content_length = upload[1]  # this view takes a larger body of its own type (a file)
        if request.method != "OPTIONS":
            authenticate_request(tokens, app.view_functions.get(request.endpoint) if request.endpoint else None,
                                 public_endpoints)
            principal = g.get("principal")
            if principal is not None:  # who the audit trail names for what this request changes
                bind_actor(principal.sub, principal.role)
        _refuse_nul_characters()
        if request.method in ("POST", "PUT", "PATCH"):
            if upload is not None and request.mimetype in upload[0]:
                if (request.content_length or 0) > upload[1]:
                    abort(413, message=f"The file is larger than {upload[1] // (1024 * 1024)} MiB.")
            else:
                _check_body()

    @app.after_request
    def finish_request(response: Response) -> Response:
        from shared.logging import current_correlation_id

        response.headers[CORRELATION_HTTP_HEADER] = current_correlation_id() or ""
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        key = (request.method, endpoint)
        counter = counted.get(key + (response.status_code,))
        if counter is None:
            counter = counted[key + (response.status_code,)] = requests_total.labels(
                service, request.method, endpoint, response.status_code)
        histogram = timed.get(key)
        if histogram is None:
            histogram = timed[key] = request_seconds.labels(service, request.method, endpoint)
        counter.inc()
        histogram.observe(time.perf_counter() - g.get("started", 0))
        return response

    @app.teardown_request
    def end_request(_exc: BaseException | None) -> None:
        unbind_request_context()
        unbind_actor()

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return problem_from_http_exception(error)
        if isinstance(error, DATABASE_UNAVAILABLE):
            # The database is restarting or busy: nothing was stored, and the same request can be sent again.
            log.warning("http.database_unavailable", path=request.path,
                        error=str(getattr(error, "orig", None) or error)[:200])
            return problem_response(503, "The database is briefly unavailable; nothing was stored. Retry shortly.",
                                    headers={"Retry-After": "1"})
        log.exception("http.unhandled_error", path=request.path)
        return problem_response(500, "Something went wrong on our side; the error was logged.")

    app.register_blueprint(_probes_blueprint(readiness, metrics_collectors or (lambda: []), health_details or {}))
    app.register_blueprint(docs_blueprint())  # /docs: Swagger UI over /openapi.json, bundled
    # The OpenAPI documents are public (SPEC section 3).
    public_endpoints = frozenset(name for name in app.view_functions if name.startswith("api-docs."))
    return app, api


UPLOAD_ATTRIBUTE = "_dealgate_upload"


def accepts_upload(*mimetypes: str, max_bytes: int) -> Callable[[ViewT], ViewT]:
    """Let a view take a body of these media types (a CSV file, say) up to `max_bytes`, besides JSON; the view
    reads and checks it itself. Every other view keeps the 1 MiB JSON-only rule."""
    def mark(view: ViewT) -> ViewT:
        setattr(view, UPLOAD_ATTRIBUTE, (frozenset(mimetypes), max_bytes))
        return view
    return mark


def _upload_of(view: Callable[..., Any] | None) -> tuple[frozenset[str], int] | None:
    upload: tuple[frozenset[str], int] | None = getattr(view, UPLOAD_ATTRIBUTE, None)
    return upload


def _refuse_nul_characters() -> None:
    """NUL cannot be stored in PostgreSQL text and is never meaningful in our inputs: refuse it up front."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for key, value in request.args.items(multi=True)):
        abort(400, message="NUL characters are not allowed in the path or query.")
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or 0) <= MAX_BODY_BYTES:
        body = request.get_data(cache=True)
        if b"\\u0000" in body or b"\x00" in body:
            abort(400, message="NUL characters are not allowed in the body.")


def _check_body() -> None:
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        abort(413, message="The request body is larger than 1 MiB.")
    has_body = bool(length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    if not has_body:
        return
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        abort(415, message="Send the body as application/json.")
    try:
        document = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser's recursion limit
        abort(400, message=f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    if document is None:
        try:
            request.get_data(cache=True)
        except HTTPException:
            raise
        abort(400, message="The request body is not valid JSON.")
    _check_document(request.get_data(cache=True), document)


def _check_document(body: bytes, document: Any) -> None:
    """Refuse what parses but no view should ever see: nesting beyond any of our schemas (every recursive walk
    over it would be at the mercy of the recursion limit), and strings that are not Unicode text (a lone UTF-16
    surrogate, escaped or encoded, cannot be stored, logged as UTF-8 or hashed). Both are looked for only when
    the raw bytes say they may be there, so an ordinary body costs two byte counts and one regex search."""
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _nesting_depth(document) > MAX_JSON_DEPTH:
        abort(400, message=f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    if _SURROGATE_HINT.search(body):
        field = _broken_text(document)
        if field is not None:
            abort(422, message="The request did not pass validation; see errors.",
                  errors={field: ["Is not valid Unicode text: it holds a lone UTF-16 surrogate."]})


def _nesting_depth(document: Any) -> int:
    """How deep arrays and objects nest (a scalar is 0); stops counting past MAX_JSON_DEPTH. No recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return depth
            deepest = max(deepest, depth)
            pending.extend((child, depth) for child in (value.values() if isinstance(value, dict) else value))
    return deepest


def _broken_text(document: Any) -> str | None:
    """The dotted path ("customer.name", "offers.0.id") of the first key or string that is not valid Unicode."""
    pending: list[tuple[Any, str]] = [(document, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if not _is_text(value):
                return path or "_schema"
        elif isinstance(value, dict):
            for key, child in value.items():
                name = key if _is_text(key) else key.encode("utf-8", "backslashreplace").decode()
                child_path = f"{path}.{name}" if path else name
                if not _is_text(key):
                    return child_path
                pending.append((child, child_path))
        elif isinstance(value, list):
            pending.extend((child, f"{path}.{index}" if path else str(index)) for index, child in enumerate(value))
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _probes_blueprint(readiness: dict[str, Callable[[], None]],
                      metrics_collectors: Callable[[], Sequence[Collector]],
                      health_details: dict[str, Callable[[], None]]) -> Blueprint:
    probes = Blueprint("probes", __name__)

    @probes.get("/healthz")
    @allow_anonymous
    def healthz() -> Response:
        """Alive: always 200 while the process answers; the details (Kafka) never make it fail."""
        body: dict[str, Any] = {"status": "ok", "service": current_app.config["DEALGATE_SERVICE"]}
        if health_details:
            body["detail"] = {name: _outcome(check) for name, check in health_details.items()}
        return jsonify(body)

    @probes.get("/readyz")
    @allow_anonymous
    def readyz() -> tuple[Response, int]:
        checks = {name: _outcome(check) for name, check in readiness.items()}
        ready = all(outcome == "ok" for outcome in checks.values())
        return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503

    @probes.get("/metrics")
    @allow_anonymous
    def metrics() -> Response:
        body, content_type = render_latest(metrics_collectors())
        return Response(body, content_type=content_type)

    return probes


def _outcome(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure is reported as such
        return f"failed: {type(exc).__name__}: {exc}"[:300]
    return "ok"


def database_check(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    return check


def kafka_check(bootstrap_servers: str, cache_s: float = 2.0) -> Callable[[], None]:
    """A TCP handshake with the first reachable bootstrap broker. Its outcome, success or failure, is kept
    `cache_s` seconds, so that /healthz and scrapes stay cheap while a broker is away (a black-holed address
    would otherwise cost every probe a connect timeout)."""
    state: dict[str, Any] = {"until": 0.0, "error": None}

    def check() -> None:
        if time.monotonic() >= state["until"]:
            state["error"] = _first_broker_error(bootstrap_servers)
            state["until"] = time.monotonic() + cache_s
        if state["error"] is not None:
            raise ConnectionError(state["error"])
    return check


def _first_broker_error(bootstrap_servers: str) -> str | None:
    """None once one bootstrap broker accepts a connection; otherwise what each one answered."""
    errors: list[str] = []
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
                return None
        except OSError as exc:
            errors.append(f"{server}: {exc}")
    return "; ".join(errors)
