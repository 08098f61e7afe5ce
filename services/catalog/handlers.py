"""Catalog use cases: plain functions of (command data, *, uow)."""
from __future__ import annotations

from typing import Any

from services.catalog.domain.events import listing_event
from services.catalog.domain.model import DomainError, Listing
from shared.topics import CATALOG_LISTINGS


class NotFound(Exception):
    pass


class VersionMismatch(Exception):
    def __init__(self, current_version: int):
        super().__init__(f"the listing is at version {current_version}")
        self.current_version = current_version


def create_listing(fields: dict[str, Any], *, uow) -> Listing:
    with uow:
        listing = Listing.draft(**fields)
        uow.listings.add(listing)
        uow.commit()
        return listing


def get_listing(listing_id: str, *, uow) -> Listing:
    with uow:
        listing = uow.listings.get(listing_id)
    if listing is None:
        raise NotFound(listing_id)
    return listing


def list_listings(*, uow, include_unpublished: bool, limit: int, after_id: str | None) -> list[Listing]:
    with uow:
        return uow.listings.list(include_unpublished=include_unpublished, limit=limit, after_id=after_id)


def publish_listing(listing_id: str, *, uow) -> Listing:
    return _change(listing_id, lambda listing: listing.publish(), uow=uow)


def retire_listing(listing_id: str, *, uow) -> Listing:
    return _change(listing_id, lambda listing: listing.retire(), uow=uow)


def update_listing(listing_id: str, changes: dict[str, Any], *, expected_version: int, uow) -> Listing:
    return _change(listing_id, lambda listing: listing.update(changes), uow=uow, expected_version=expected_version)


def _change(listing_id: str, change, *, uow, expected_version: int | None = None) -> Listing:
    with uow:
        listing = uow.listings.get(listing_id)
        if listing is None:
            raise NotFound(listing_id)
        if expected_version is not None and listing.version != expected_version:
            raise VersionMismatch(listing.version)
        loaded_version = listing.version
        change(listing)
        if not uow.listings.save(listing, expected_version=loaded_version):
            raise VersionMismatch(loaded_version + 1)
        for event_type, changed in listing.events:
            uow.publish(CATALOG_LISTINGS, listing_event(event_type, changed))
        listing.events.clear()
        uow.commit()
        return listing


__all__ = ["DomainError", "NotFound", "VersionMismatch", "create_listing", "get_listing", "list_listings",
           "publish_listing", "retire_listing", "update_listing"]
