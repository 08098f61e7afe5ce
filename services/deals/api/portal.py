"""Serves the partner portal (/portal): plain HTML, CSS and JavaScript files from services/deals/portal, no build
step, no CDN, a Content-Security-Policy without inline script, as the conflict service serves the desk.

The page itself is public; every call it makes carries the partner's token: with an OpenID Connect issuer
configured, through the authorization code flow with PKCE (shared/data/web/oidc.js, which the desk serves too;
the issuer and the portal's public client come from /portal/config.json); pasting a token is offered only in
development. Everything the page
does goes through the deals API (/v1/deals, /v1/deals/check, /v1/webhooks), plus /portal/products.json: the
listings the partner may register, from deals' own copy of the catalog (the catalog service is another origin).
"""
from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, redirect, send_file, send_from_directory

from services.deals.storage.tables import catalog_listings
from shared.auth import BROWSER_SIGN_IN_SCRIPT, allow_anonymous, require_roles

PORTAL_FILES = Path(__file__).resolve().parent.parent / "portal"
ASSETS = frozenset({"portal.css", "portal.js", "oidc.js"})
PARTNER_ROLES = ("partner", "marketplace", "sales")
MAX_PRODUCTS = 500

portal = Blueprint("portal", __name__)


def _deals() -> Any:
    return current_app.extensions["dealgate"]


@portal.get("/portal")
@allow_anonymous
def page():
    response = send_from_directory(PORTAL_FILES, "index.html", max_age=0)
    issuer = _deals().settings.oidc_issuer
    connect = " ".join(["'self'", *([_origin(issuer)] if issuer else [])])
    response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                                   f"script-src 'self'; connect-src {connect}; "
                                                   "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@portal.get("/portal/")
@allow_anonymous
def page_with_slash():
    return redirect("/portal", code=308)


@portal.get("/portal/config.json")
@allow_anonymous
def config():
    """How the page signs in: the OpenID Connect issuer and the portal's public client (code flow with PKCE), if
    an issuer is configured, and whether a pasted token is offered (development only)."""
    settings = _deals().settings
    oidc = ({"issuer": settings.oidc_issuer, "client_id": settings.portal_client_id,
             "role_claim": settings.oidc_role_claim} if settings.oidc_issuer else None)
    response = jsonify(oidc=oidc, paste=not settings.is_production)
    response.headers["Cache-Control"] = "no-store"
    return response


@portal.get("/portal/assets/<name>")
@allow_anonymous
def asset(name: str):
    if name not in ASSETS:  # only the page's own files, never a path into the package
        abort(404)
    if name == "oidc.js":
        return send_file(BROWSER_SIGN_IN_SCRIPT, max_age=60)
    return send_from_directory(PORTAL_FILES, name, max_age=60)


@portal.get("/portal/products.json")
def products():
    """Published listings offered to the caller's channel ({id, title}), for the registration form's picker."""
    principal = require_roles(*PARTNER_ROLES)
    with _deals().engine.connect() as connection:
        rows = connection.execute(sa.select(catalog_listings.c.document)
                                  .where(catalog_listings.c.status == "published")).scalars().all()
    offered = [{"id": document["id"], "title": document.get("title") or document["id"]}
               for document in rows if _offered_to(document, principal.channel)]
    offered.sort(key=lambda listing: (str(listing["title"]).lower(), listing["id"]))
    response = jsonify(items=offered[:MAX_PRODUCTS])
    response.headers["Cache-Control"] = "private, max-age=30"
    return response


def _offered_to(document: dict[str, Any], channel: str | None) -> bool:
    return any(channel is None or channel in (offer.get("channels") or []) for offer in document.get("offers") or [])


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
