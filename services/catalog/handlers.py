"""Catalog use cases: plain functions of (command data, *, uow)."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from services.catalog.domain.model import DomainError, Listing
from services.catalog.domain.search import ListingQuery, Viewer, visible_view

if TYPE_CHECKING:  # the protocol only: handlers receive their storage, they never build it
    from services.catalog.storage.uow import CatalogUnitOfWork


class NotFound(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class ListingPage:
    revision: int
    items: list[dict[str, Any]]
    next_after: tuple[int, int] | None


class VersionMismatch(Exception):
    def __init__(self, current_version: int):
        super().__init__(f"the listing is at version {current_version}")
        self.current_version = current_version


def create_listing(fields: dict[str, Any], *, uow: CatalogUnitOfWork) -> Listing:
    with uow:
        listing = Listing.draft(**fields)
        uow.listings.add(listing)
        uow.commit()
        return listing


def search_listings(query: ListingQuery, viewer: Viewer, *, reader) -> ListingPage:
    """One page of listings as `viewer` may see them; `next_after` is the key the following page starts after."""
    if not viewer.sees_everything and query.status not in (None, "published"):
        return ListingPage(revision=reader.revision(), items=[], next_after=None)
    revision, found = reader.search(dataclasses.replace(query, limit=query.limit + 1), viewer)
    page = found[: query.limit]
    items = [view for listing in page if (view := visible_view(listing.document, viewer)) is not None]
    next_after = (page[-1].score, page[-1].seq) if len(found) > query.limit else None
    return ListingPage(revision=revision, items=items, next_after=next_after)


def read_listing(listing_id: str, viewer: Viewer, *, reader) -> dict[str, Any]:
    """The listing as `viewer` may see it; NotFound when it does not exist or none of it is theirs to see."""
    document = reader.get(listing_id)
    view = visible_view(document, viewer) if document is not None else None
    if view is None:
        raise NotFound(listing_id)
    return view


def publish_listing(listing_id: str, *, uow: CatalogUnitOfWork,
                    expected_versions: frozenset[int] | None = None) -> Listing:
    return _change(listing_id, lambda listing: listing.publish(), uow=uow, expected_versions=expected_versions)


def retire_listing(listing_id: str, *, uow: CatalogUnitOfWork,
                   expected_versions: frozenset[int] | None = None) -> Listing:
    return _change(listing_id, lambda listing: listing.retire(), uow=uow, expected_versions=expected_versions)


def update_listing(listing_id: str, changes: dict[str, Any], *, expected_versions: frozenset[int],
                   uow: CatalogUnitOfWork) -> Listing:
    return _change(listing_id, lambda listing: listing.update(changes), uow=uow, expected_versions=expected_versions)


def _change(listing_id: str, change, *, uow: CatalogUnitOfWork,
            expected_versions: frozenset[int] | None = None) -> Listing:
    with uow:
        listing = uow.listings.get(listing_id)
        if listing is None:
            raise NotFound(listing_id)
        if expected_versions is not None and listing.version not in expected_versions:
            raise VersionMismatch(listing.version)
        loaded_version = listing.version
        change(listing)
        if not uow.listings.save(listing, expected_version=loaded_version):
            raise VersionMismatch(loaded_version + 1)
        uow.commit()
        return listing


__all__ = ["DomainError", "ListingPage", "NotFound", "VersionMismatch", "create_listing",
           "publish_listing", "read_listing", "retire_listing", "search_listings", "update_listing"]
