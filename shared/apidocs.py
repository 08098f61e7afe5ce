"""The browsable API documentation every service serves at /docs: its own OpenAPI document (/openapi.json)
rendered by Swagger UI, whose files come from the pinned swagger-ui-bundle package and are served from here,
never a CDN, under a Content-Security-Policy with no inline script."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, redirect, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from shared.auth import allow_anonymous

PAGE_FILES = Path(__file__).resolve().parent / "data" / "apidocs"
OWN_ASSETS = frozenset({"docs.js", "docs.css"})
SWAGGER_UI_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
# Swagger UI styles its elements through the DOM (allowed by style-src 'self'), draws icons from data: URIs, and
# fetches only this service's /openapi.json (and, with "Try it out", this service's own API).
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def docs_blueprint() -> Blueprint:
    docs = Blueprint("apidocs", __name__)

    @docs.get("/docs")
    @allow_anonymous
    def page() -> Response:
        return _secured(send_from_directory(PAGE_FILES, "index.html", max_age=0))

    @docs.get("/docs/")
    @allow_anonymous
    def page_with_slash() -> Response:
        return redirect("/docs", code=308)  # type: ignore[return-value]

    @docs.get("/docs/assets/<name>")
    @allow_anonymous
    def asset(name: str) -> Response:
        # Only the named files, never a path into either directory.
        if name in OWN_ASSETS:
            return _secured(send_from_directory(PAGE_FILES, name, max_age=300))
        if name in SWAGGER_UI_ASSETS:
            return _secured(send_from_directory(Path(str(swagger_ui_path)), name, max_age=3600))
        abort(404)

    return docs


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
