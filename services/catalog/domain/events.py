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
