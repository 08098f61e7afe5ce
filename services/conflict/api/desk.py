"""Serves the channel desk's web page (/desk): plain HTML, CSS and JavaScript files, no build step.

The page itself is public; every API call it makes carries the desk token the user signs in with. Its one
library, Chart.js for the analytics view, is vendored under desk/vendor and served from here, never a CDN.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, send_from_directory

from shared.auth import allow_anonymous

DESK_FILES = Path(__file__).resolve().parent.parent / "desk"
ASSETS = frozenset({"desk.css", "desk.js"})
VENDORED = frozenset({"chart.umd.min.js", "chart.js.LICENSE.txt"})

desk = Blueprint("desk", __name__)


@desk.get("/desk")
@allow_anonymous
def page():
    response = send_from_directory(DESK_FILES, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                   "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@desk.get("/desk/")
@allow_anonymous
def page_with_slash():
    return redirect("/desk", code=308)


@desk.get("/desk/assets/<name>")
@allow_anonymous
def asset(name: str):
    if name not in ASSETS:  # only the page's own files, never a path into the package
        abort(404)
    return send_from_directory(DESK_FILES, name, max_age=60)


@desk.get("/desk/assets/vendor/<name>")
@allow_anonymous
def vendored(name: str):
    if name not in VENDORED:
        abort(404)
    return send_from_directory(DESK_FILES / "vendor", name, max_age=3600)
