"""Catalog events as they travel on catalog.listings.v1: each carries the full listing."""
from __future__ import annotations

from services.catalog.domain.model import Listing
from shared.events import CloudEvent

SOURCE = "/dealgate/catalog"


def listing_event(event_type: str, listing: Listing) -> CloudEvent:
    return CloudEvent(type=event_type, source=SOURCE, subject=listing.id, data=listing.to_dict())
