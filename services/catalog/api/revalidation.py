"""Search revalidations and already rendered pages answered in front of Flask: the catalog's hottest requests.

A marketplace frontend (or the CDN before it) revalidates the same search pages over and over with
If-None-Match, and asks the same popular searches again. The answer needs only the viewer, the query text and
the catalog revision (see caching.py), so this WSGI middleware answers a still-current ETag with 304, and a
page the page cache already holds for that ETag with 200 and the page, before Flask builds a request, routes
it, parses its arguments and runs the shared hooks. Anything else, including every doubt (a token that does
not verify, an ETag that is not current, a page not rendered yet), goes through the full app unchanged, which
answers it as before. A page only enters the cache from the app, for a query that passed its validation.

It keeps what the shared hooks promise for every response: an X-Correlation-ID header (echoed or new) and
the request counter and latency histogram, under the same labels the app uses.
"""
from __future__ import annotations

import time

from werkzeug.http import parse_etags

from services.catalog.api.caching import PRIVATE_CACHE_CONTROL, PUBLIC_CACHE_CONTROL, PageCache, page_etag
from services.catalog.domain.search import Viewer
from shared.auth import AuthError, Principal, TokenVerifier
from shared.logging import usable_correlation_id
from shared.metrics import http_metrics

SEARCH_PATH = "/v1/listings"
# The revision this middleware read, handed to the app when it passes a request on (one read per request).
REVISION_ENVIRON_KEY = "dealgate.catalog_revision"


def viewer_of(principal: Principal | None) -> Viewer:
    if principal is None:
        return Viewer.anonymous()
    return Viewer.of(role=principal.role, partner_id=principal.partner_id, subject=principal.sub)


def search_request_key(viewer: Viewer, query_string: str) -> str:
    """What a search page depends on besides the revision: who asks (their view of offers) and the query as
    sent, its parameters in sorted order and still percent-encoded, so that this middleware and the Flask view
    compute it identically. Other spellings of one query only cost another cache entry."""
    return f"{viewer.cache_key}\n{'&'.join(sorted(query_string.split('&')))}"


class SearchRevalidation:
    def __init__(self, app, *, revision, tokens: TokenVerifier, page_cache: PageCache | None = None,
                 service: str = "catalog"):
        self._app = app
        self._revision = revision
        self._tokens = tokens
        self._page_cache = page_cache
        requests_total, request_seconds = http_metrics()
        self._not_modified = requests_total.labels(service, "GET", SEARCH_PATH, 304)
        self._served = requests_total.labels(service, "GET", SEARCH_PATH, 200)
        self._histogram = request_seconds.labels(service, "GET", SEARCH_PATH)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != SEARCH_PATH:
            return self._app(environ, start_response)
        if "HTTP_IF_NONE_MATCH" not in environ and self._page_cache is None:
            return self._app(environ, start_response)
        started = time.perf_counter()
        authorization = environ.get("HTTP_AUTHORIZATION")
        principal = None
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return self._app(environ, start_response)
            try:
                principal = self._tokens.verify(token.strip())
            except AuthError:
                return self._app(environ, start_response)  # the app answers 401 with the reason
        try:
            revision = self._revision()
        except Exception:  # noqa: BLE001 - e.g. the database is down: the app answers it (503), as for any doubt
            return self._app(environ, start_response)
        environ[REVISION_ENVIRON_KEY] = revision
        etag = page_etag(revision, search_request_key(viewer_of(principal), environ.get("QUERY_STRING", "")))
        headers = [
            ("ETag", etag),
            ("Cache-Control", PRIVATE_CACHE_CONTROL if principal else PUBLIC_CACHE_CONTROL),
            ("Vary", "Authorization"),
            ("X-Correlation-ID", usable_correlation_id(environ.get("HTTP_X_CORRELATION_ID"))),
        ]
        if "HTTP_IF_NONE_MATCH" in environ:
            if not parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains_weak(etag.strip('"')):
                return self._app(environ, start_response)
            start_response("304 NOT MODIFIED", headers)
            self._not_modified.inc()
            self._histogram.observe(time.perf_counter() - started)
            return []
        page = self._page_cache.get(etag) if self._page_cache is not None else None
        if page is None:
            return self._app(environ, start_response)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(page))),
                                  *headers])
        self._served.inc()
        self._histogram.observe(time.perf_counter() - started)
        return [page]
