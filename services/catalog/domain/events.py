"""Catalog events as they travel on catalog.listings.v1: each carries the full listing."""
from __future__ import annotations

from services.catalog.domain.model import Listing
from shared.events import CloudEvent
from shared.topics import CATALOG_LISTINGS

SOURCE = "/dealgate/catalog"


def listing_event(event_type: str, listing: Listing) -> CloudEvent:
    return CloudEvent(type=event_type, source=SOURCE, subject=listing.id, data=listing.to_dict())


def new_events(listing: Listing) -> list[tuple[str, CloudEvent]]:
    """What the listing recorded, as messages; called by the unit of work at commit."""
    recorded, listing.events = listing.events, []
    return [(CATALOG_LISTINGS, listing_event(event_type, listing)) for event_type in recorded]


def unpublished_changes(listing: Listing) -> list[CloudEvent]:
    """What changed in a listing that is not published (a draft), for the audit trail only: never in the outbox."""
    recorded, listing.unpublished_changes = listing.unpublished_changes, []
    return [CloudEvent(type=change, source=SOURCE, subject=listing.id,
                       data={"status": listing.status, "version": listing.version}) for change in recorded]
