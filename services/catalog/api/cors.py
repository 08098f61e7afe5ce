"""CORS for the catalog's anonymous reads, so a marketplace frontend on another origin can list and read
published listings straight from a browser. Only GET and HEAD of /v1/listings and /v1/listings/{id}, only for
the origins CATALOG_CORS_ORIGINS allows, and never with credentials: a token is for servers, not for pages
of other origins.

A WSGI middleware, outermost, because the search revalidation (revalidation.py) answers 304s before Flask and
those need the same headers as the 200 they stand for."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

READ_PATH = re.compile(r"^/v1/listings(/[^/]+)?$")
READ_METHODS = ("GET", "HEAD")
# Headers a page may send (If-None-Match to revalidate; the correlation id to trace) and read (ETag to revalidate
# with; Cache-Control is safelisted already).
ALLOWED_REQUEST_HEADERS = "If-None-Match, X-Correlation-ID"
EXPOSED_HEADERS = "ETag, X-Correlation-ID"
PREFLIGHT_MAX_AGE_S = 600

StartResponse = Callable[..., Any]


class AnonymousReadsCors:
    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]], *,
                 allowed_origins: tuple[str, ...]):
        self._app = app
        self._any = "*" in allowed_origins
        self._allowed = frozenset(allowed_origins)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self._allowed or not READ_PATH.match(environ.get("PATH_INFO", "")):
            return self._app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        allowed = origin is not None and (self._any or origin in self._allowed)
        method = environ.get("REQUEST_METHOD", "")
        if method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self._preflight(environ, start_response, origin if allowed else None)
        if not allowed or method not in READ_METHODS:
            return self._app(environ, start_response)

        def with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [*headers, ("Access-Control-Allow-Origin", "*" if self._any else str(origin)),
                       ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]
            if not self._any:
                headers = _vary_on_origin(headers)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
        return self._app(environ, with_cors)

    def _preflight(self, environ: dict[str, Any], start_response: StartResponse,
                   origin: str | None) -> Iterable[bytes]:
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "")
        headers = [("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
                   ("Content-Length", "0")]
        if origin is not None and requested in READ_METHODS:
            headers += [("Access-Control-Allow-Origin", "*" if self._any else origin),
                        ("Access-Control-Allow-Methods", ", ".join(READ_METHODS)),
                        ("Access-Control-Allow-Headers", ALLOWED_REQUEST_HEADERS),
                        ("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE_S))]
        # Without the Allow-* headers the browser refuses the request itself; the answer is the same either way.
        start_response("204 No Content", headers)
        return []


def _vary_on_origin(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Add Origin to Vary (a cache must keep one copy per origin, as the Allow-Origin header differs)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            headers[index] = (name, f"{value}, Origin")
            return headers
    return [*headers, ("Vary", "Origin")]

