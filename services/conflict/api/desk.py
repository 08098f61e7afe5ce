"""Serves the channel desk's web page (/desk): plain HTML, CSS and JavaScript files, no build step.

The page itself is public; every API call it makes carries the desk token the user signs in with: with an
OpenID Connect issuer configured, through the authorization code flow with PKCE (desk.js; the issuer and client
come from /desk/config.json); pasting a token is offered only in development. Its one library, Chart.js for the
analytics view, is vendored under desk/vendor and served from here, never a CDN.
"""
from __future__ import annotations

import urllib.parse
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, redirect, send_file, send_from_directory

from shared.auth import BROWSER_SIGN_IN_SCRIPT, allow_anonymous
from shared.config import Settings

DESK_FILES = Path(__file__).resolve().parent.parent / "desk"
ASSETS = frozenset({"desk.css", "desk.js", "oidc.js"})
VENDORED = frozenset({"chart.umd.min.js", "chart.js.LICENSE.txt"})

desk = Blueprint("desk", __name__)


@desk.get("/desk")
@allow_anonymous
def page():
    response = send_from_directory(DESK_FILES, "index.html", max_age=0)
    issuer = _settings().oidc_issuer
    # The page talks to this service, and with single sign-on to the issuer (its metadata and token endpoint).
    connect = " ".join(["'self'", *([_origin(issuer)] if issuer else [])])
    response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                   f"style-src 'self'; script-src 'self'; connect-src {connect}; "
                                                   "frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@desk.get("/desk/config.json")
@allow_anonymous
def config():
    """How the page signs in: the OpenID Connect issuer and its public client (code flow with PKCE), if one is
    configured, and whether a pasted token is offered (development only)."""
    settings = _settings()
    oidc = ({"issuer": settings.oidc_issuer, "client_id": settings.oidc_desk_client_id,
             "role_claim": settings.oidc_role_claim} if settings.oidc_issuer else None)
    response = jsonify(oidc=oidc, paste=not settings.is_production)
    response.headers["Cache-Control"] = "no-store"
    return response


def _settings() -> Settings:
    settings: Settings = current_app.extensions["dealgate"].settings
    return settings


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@desk.get("/desk/")
@allow_anonymous
def page_with_slash():
    return redirect("/desk", code=308)


@desk.get("/desk/assets/<name>")
@allow_anonymous
def asset(name: str):
    if name not in ASSETS:  # only the page's own files, never a path into the package
        abort(404)
    if name == "oidc.js":
        return send_file(BROWSER_SIGN_IN_SCRIPT, max_age=60)
    return send_from_directory(DESK_FILES, name, max_age=60)


@desk.get("/desk/assets/vendor/<name>")
@allow_anonymous
def vendored(name: str):
    if name not in VENDORED:
        abort(404)
    return send_from_directory(DESK_FILES / "vendor", name, max_age=3600)
