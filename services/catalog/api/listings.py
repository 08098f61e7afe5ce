"""HTTP resource for listings: thin views that parse, authorise, handle caching headers and hand over to handlers."""
from __future__ import annotations

import json
import re
from typing import Literal, overload

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.catalog import handlers
from services.catalog.api.caching import (
    NO_STORE,
    PRIVATE_CACHE_CONTROL,
    PUBLIC_CACHE_CONTROL,
    decode_cursor,
    encode_cursor,
    listing_etag,
    page_etag,
)
from services.catalog.api.revalidation import REVISION_ENVIRON_KEY, search_request_key, viewer_of
from services.catalog.api.schemas import (
    ListingCreateSchema,
    ListingPageSchema,
    ListingPatchSchema,
    ListingQuerySchema,
    ListingSchema,
)
from services.catalog.domain.search import ListingQuery, Viewer, query_terms
from shared.auth import allow_anonymous, current_principal, roles_required

blp = Blueprint("listings", __name__, url_prefix="/v1/listings", description="Listings and their offers")

_CACHE_HEADERS = {"ETag": {"schema": {"type": "string"}, "description": "Send it back in If-None-Match"},
                  "Cache-Control": {"schema": {"type": "string"}}}
_WRITE_HEADERS = {"ETag": {"schema": {"type": "string"}, "description": "The version; send it back in If-Match"}}
# Reads need no token (anonymous callers see published listings and public offers); a token only widens the view.
_TOKEN_OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]


admin_only = roles_required("admin")
_VERSION = re.compile(r"[0-9]{1,18}")


def _catalog():
    return current_app.extensions["dealgate"]


def _viewer() -> Viewer:
    return viewer_of(current_principal())


def _still_current(etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2), and * matches any current representation."""
    return request.if_none_match.contains_weak(etag.strip('"'))


def _read_response(body: bytes | None, etag: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL if current_principal() else PUBLIC_CACHE_CONTROL
    response.headers["Vary"] = "Authorization"
    return response


def _search_request_key() -> str:
    return search_request_key(_viewer(), request.query_string.decode("latin-1"))  # WSGI's QUERY_STRING text


@blp.before_request
def answer_search_from_revision():
    """The SearchRevalidation middleware answers rendered pages and revalidations in front of Flask; what it
    passed on (a page another worker thread rendered meanwhile) is answered here, before the arguments are even
    parsed: an ETag is only ever handed out for a query text that passed validation, for this viewer, and the
    catalog revision (the one the middleware read) says whether anything changed since.
    Authentication has already run (the app's own before_request), so the viewer is known."""
    if request.endpoint != "listings.Listings" or request.method != "GET":
        return None
    catalog = _catalog()
    revision = request.environ.get(REVISION_ENVIRON_KEY)
    etag = page_etag(catalog.reader.revision() if revision is None else revision, _search_request_key())
    if request.if_none_match and _still_current(etag):
        return _read_response(None, etag, 304)
    body = catalog.page_cache.get(etag)
    return _read_response(body, etag) if body is not None else None


@blp.route("")
class Listings(MethodView):
    @allow_anonymous
    @blp.doc(security=_TOKEN_OPTIONAL)
    # An instance, not the class: webargs would build a new schema (deep-copying its fields) for every request.
    @blp.arguments(ListingQuerySchema(), location="query")
    @blp.response(200, ListingPageSchema, headers=_CACHE_HEADERS)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is still current")
    @blp.alt_response(401, schema="Problem", description="A bad token")
    @blp.alt_response(422, schema="Problem", description="A bad filter or cursor")
    def get(self, args):
        """Search listings.

        Anonymous callers and partners see published listings with the offers open to them (public ones, and
        private ones addressed to their partner id); admins see every listing and offer. `q` matches words in
        title, tags and summary (as prefixes; all must match), and the best matches come first: title before
        tags before summary. Without `q` the newest listings come first. Pages stay stable while listings are
        added: follow `next_cursor`.
        """
        try:
            after = decode_cursor(args.get("cursor"))
        except ValueError as exc:
            abort(422, message="The request did not pass validation; see errors.", errors={"cursor": [str(exc)]})
        query = ListingQuery(terms=tuple(query_terms(args.get("q"))), category=args.get("category"),
                             channel=args.get("channel"), region=args.get("region"), status=args.get("status"),
                             limit=args["limit"], after=after)
        # Revalidations and cached pages never get here (answer_search_from_revision): run the search.
        catalog = _catalog()
        page = handlers.search_listings(query, _viewer(), reader=catalog.reader)
        etag = page_etag(page.revision, _search_request_key())
        body = json.dumps({"items": page.items, "next_cursor": encode_cursor(page.next_after)},
                          separators=(",", ":")).encode()
        catalog.page_cache.put(etag, body)
        if _still_current(etag):  # written and searched again since the hook looked: still the same page
            return _read_response(None, etag, 304)
        return _read_response(body, etag)

    @admin_only
    @blp.arguments(ListingCreateSchema)
    @blp.response(201, ListingSchema, headers={**_WRITE_HEADERS, "Location": {"schema": {"type": "string"}}})
    @blp.alt_response(401, schema="Problem", description="No or bad token")
    @blp.alt_response(403, schema="Problem", description="Only admins write")
    @blp.alt_response(422, schema="Problem", description="Validation failed; `errors` maps fields to messages")
    def post(self, fields):
        """Create a draft listing (admin)."""
        listing = handlers.create_listing(fields, uow=_catalog().uow_factory())
        return listing.to_dict(), 201, {"Location": f"/v1/listings/{listing.id}", "ETag": f'"{listing.version}"',
                                        "Cache-Control": NO_STORE}


@blp.route("/<listing_id>")
class ListingItem(MethodView):
    @allow_anonymous
    @blp.doc(security=_TOKEN_OPTIONAL)
    @blp.response(200, ListingSchema, headers=_CACHE_HEADERS)
    @blp.alt_response(304, description="Not modified: the If-None-Match ETag is still current")
    @blp.alt_response(401, schema="Problem", description="A bad token")
    @blp.alt_response(404, schema="Problem", description="No such listing, or none of it is yours to see")
    def get(self, listing_id):
        """Read one listing, with the offers open to the caller."""
        viewer = _viewer()
        try:
            view = handlers.read_listing(listing_id, viewer, reader=_catalog().reader)
        except handlers.NotFound:
            abort(404, message="No such listing.")
        etag = listing_etag(view, full_document_version=viewer.sees_everything)
        if _still_current(etag):
            return _read_response(None, etag, 304)
        return _read_response(json.dumps(view, separators=(",", ":")).encode(), etag)

    @admin_only
    @blp.arguments(ListingPatchSchema(partial=True))
    @blp.response(200, ListingSchema, headers=_WRITE_HEADERS)
    @blp.alt_response(401, schema="Problem", description="No or bad token")
    @blp.alt_response(403, schema="Problem", description="Only admins write")
    @blp.alt_response(404, schema="Problem", description="No such listing")
    @blp.alt_response(409, schema="Problem", description="A retired listing cannot change")
    @blp.alt_response(412, schema="Problem", description="If-Match does not match the current version")
    @blp.alt_response(422, schema="Problem", description="Validation failed; `errors` maps fields to messages")
    @blp.alt_response(428, schema="Problem", description="If-Match is required")
    def patch(self, changes, listing_id):
        """Change a listing (admin). Send If-Match with its ETag; a published listing announces the change."""
        expected = _if_match(required=True)
        return _change(lambda: handlers.update_listing(listing_id, changes, expected_versions=expected,
                                                       uow=_catalog().uow_factory()))


@overload
def _if_match(*, required: Literal[True]) -> frozenset[int]: ...
@overload
def _if_match(*, required: bool) -> frozenset[int] | None: ...
def _if_match(*, required: bool) -> frozenset[int] | None:
    """The versions named by If-Match; None when it is absent and optional."""
    if "If-Match" not in request.headers:
        if required:
            abort(428, message="Send If-Match with the listing's current ETag.")
        return None
    tags = request.if_match
    if tags.star_tag:
        abort(428, message="If-Match: * does not protect against lost updates; send the listing's ETag.")
    # werkzeug parsed the header (lists, W/ and quoting); If-Match compares strongly (RFC 9110 13.1.1), so weak
    # tags never match. A version is ASCII digits only ("²".isdigit() is True, and int() of 5000 digits raises),
    # at most 18 of them (a bigint); any other tag names no version this listing has.
    versions = frozenset(int(tag) for tag in tags.as_set(include_weak=False) if _VERSION.fullmatch(tag))
    if not versions:
        abort(412, message="If-Match must carry the listing's ETag, e.g. \"3\".")
    return versions


def _change(action):
    try:
        listing = action()
    except handlers.NotFound:
        abort(404, message="No such listing.")
    except handlers.VersionMismatch as exc:
        abort(412, message=f"The listing changed meanwhile; it is now at version {exc.current_version}.")
    except handlers.DomainError as exc:
        if exc.field:
            abort(422, message="The request did not pass validation; see errors.", errors={exc.field: [str(exc)]})
        abort(409, message=str(exc))
    return listing.to_dict(), 200, {"ETag": f'"{listing.version}"', "Cache-Control": NO_STORE}


@blp.route("/<listing_id>/publish", methods=["POST"])
@admin_only
@blp.response(200, ListingSchema, headers=_WRITE_HEADERS)
@blp.alt_response(401, schema="Problem", description="No or bad token")
@blp.alt_response(403, schema="Problem", description="Only admins write")
@blp.alt_response(404, schema="Problem", description="No such listing")
@blp.alt_response(409, schema="Problem", description="Already published, retired, or without an offer")
@blp.alt_response(412, schema="Problem", description="An If-Match was sent and does not match")
def publish(listing_id):
    """Publish a draft listing (admin); it needs at least one offer. Announces listing.published."""
    expected = _if_match(required=False)
    return _change(lambda: handlers.publish_listing(listing_id, uow=_catalog().uow_factory(),
                                                    expected_versions=expected))


@blp.route("/<listing_id>/retire", methods=["POST"])
@admin_only
@blp.response(200, ListingSchema, headers=_WRITE_HEADERS)
@blp.alt_response(401, schema="Problem", description="No or bad token")
@blp.alt_response(403, schema="Problem", description="Only admins write")
@blp.alt_response(404, schema="Problem", description="No such listing")
@blp.alt_response(409, schema="Problem", description="Already retired")
@blp.alt_response(412, schema="Problem", description="An If-Match was sent and does not match")
def retire(listing_id):
    """Retire a listing (admin). A published one announces listing.retired."""
    expected = _if_match(required=False)
    return _change(lambda: handlers.retire_listing(listing_id, uow=_catalog().uow_factory(),
                                                   expected_versions=expected))

