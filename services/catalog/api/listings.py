"""HTTP resource for listings: thin views that parse, authorise and hand over to handlers."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.catalog import handlers
from services.catalog.api.schemas import (ListingCreateSchema, ListingPageSchema, ListingPatchSchema,
                                          ListingQuerySchema, ListingSchema)
from shared.auth import allow_anonymous, current_principal, require_roles

blp = Blueprint("listings", __name__, url_prefix="/v1/listings", description="Listings and their offers")


def _uow():
    return current_app.extensions["dealgate"].uow_factory()


def _is_admin() -> bool:
    principal = current_principal()
    return principal is not None and principal.role == "admin"


@blp.route("")
class Listings(MethodView):
    @allow_anonymous
    @blp.arguments(ListingQuerySchema, location="query")
    @blp.response(200, ListingPageSchema)
    def get(self, query):
        """Search published listings (admins also see drafts and retired ones)."""
        items = handlers.list_listings(uow=_uow(), include_unpublished=_is_admin(), limit=query["limit"] + 1,
                                       after_id=query.get("cursor"))
        next_cursor = items[query["limit"] - 1].id if len(items) > query["limit"] else None
        return {"items": [i.to_dict() for i in items[: query["limit"]]], "next_cursor": next_cursor}

    @blp.arguments(ListingCreateSchema)
    @blp.response(201, ListingSchema)
    @blp.alt_response(401, description="No or bad token")
    @blp.alt_response(403, description="Only admins write")
    @blp.alt_response(422, description="Validation failed")
    def post(self, fields):
        """Create a draft listing (admin)."""
        require_roles("admin")
        listing = handlers.create_listing(_plain(fields), uow=_uow())
        return listing.to_dict(), 201, {"Location": f"/v1/listings/{listing.id}", "ETag": f'"{listing.version}"'}


@blp.route("/<listing_id>")
class ListingItem(MethodView):
    @allow_anonymous
    @blp.response(200, ListingSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, listing_id):
        """Read one listing."""
        try:
            listing = handlers.get_listing(listing_id, uow=_uow())
        except handlers.NotFound:
            abort(404, message="No such listing.")
        if listing.status != "published" and not _is_admin():
            abort(404, message="No such listing.")
        return listing.to_dict(), 200, {"ETag": f'"{listing.version}"'}

    @blp.arguments(ListingPatchSchema)
    @blp.response(200, ListingSchema)
    @blp.alt_response(412, description="If-Match does not match the current version")
    @blp.alt_response(428, description="If-Match is required")
    def patch(self, changes, listing_id):
        """Change a listing (admin); needs If-Match with the current version."""
        require_roles("admin")
        if_match = request.headers.get("If-Match")
        if not if_match:
            abort(428, message="Send If-Match with the listing's current version (its ETag).")
        try:
            expected = int(if_match.strip().strip('W/').strip('"'))
        except ValueError:
            abort(412, message="If-Match must be the listing's ETag.")
        return _change(lambda: handlers.update_listing(listing_id, _plain(changes), expected_version=expected,
                                                       uow=_uow()))


def _change(action):
    try:
        listing = action()
    except handlers.NotFound:
        abort(404, message="No such listing.")
    except handlers.VersionMismatch as exc:
        abort(412, message=f"The listing changed meanwhile; it is now at version {exc.current_version}.")
    except handlers.DomainError as exc:
        abort(409, message=str(exc))
    return listing.to_dict(), 200, {"ETag": f'"{listing.version}"'}


@blp.route("/<listing_id>/publish", methods=["POST"])
@blp.response(200, ListingSchema)
def publish(listing_id):
    """Publish a draft listing (admin)."""
    require_roles("admin")
    return _change(lambda: handlers.publish_listing(listing_id, uow=_uow()))


@blp.route("/<listing_id>/retire", methods=["POST"])
@blp.response(200, ListingSchema)
def retire(listing_id):
    """Retire a listing (admin)."""
    require_roles("admin")
    return _change(lambda: handlers.retire_listing(listing_id, uow=_uow()))


def _plain(value):
    """Decimals from the schema become strings: amounts are decimal strings everywhere outside Python."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
