"""Loads and saves Listing aggregates as rows, keeping the search words, offer reach and catalog revision in step."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.catalog.domain.model import Listing
from services.catalog.domain.search import offer_audience, searchable_fields
from services.catalog.storage.tables import catalog_revision, listings, offer_reach
from shared.uow import SeenAggregates


class ListingRepository:
    """Registers every listing it loads or stores with `seen`, whose events commit() publishes."""

    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen

    def get(self, listing_id: str, *, for_update: bool = False) -> Listing | None:
        query = sa.select(listings.c.document).where(listings.c.id == listing_id)
        if for_update:
            query = query.with_for_update()
        document = self._connection.execute(query).scalar_one_or_none()
        if document is None:
            return None
        listing = Listing.from_dict(document)
        self._seen.add(listing)
        return listing

    def add(self, listing: Listing) -> None:
        seq = self._next_revision()
        self._connection.execute(listings.insert().values(seq=seq, **self._row(listing)))
        self._write_reach(listing)
        self._seen.add(listing)

    def save(self, listing: Listing, *, expected_version: int) -> bool:
        """Write the new state only if nobody else changed it since `expected_version` (optimistic lock)."""
        result = self._connection.execute(
            listings.update().where(listings.c.id == listing.id, listings.c.version == expected_version)
            .values(**self._row(listing)))
        if result.rowcount != 1:
            return False
        self._seen.add(listing)
        self._connection.execute(offer_reach.delete().where(offer_reach.c.listing_id == listing.id))
        self._write_reach(listing)
        self._next_revision()
        return True

    def _next_revision(self) -> int:
        # The single-row update also serialises concurrent writers, so revisions are handed out in commit order.
        return self._connection.execute(
            catalog_revision.update().where(catalog_revision.c.id == 1)
            .values(revision=catalog_revision.c.revision + 1).returning(catalog_revision.c.revision)).scalar_one()

    def _write_reach(self, listing: Listing) -> None:
        rows = [dict(listing_id=listing.id, offer_id=offer.id, channel=channel, region=region,
                     audience=offer_audience(offer.to_dict()))
                for offer in listing.offers for channel in offer.channels for region in offer.regions]
        if rows:
            self._connection.execute(offer_reach.insert(), rows)

    @staticmethod
    def _row(listing: Listing) -> dict:
        search = searchable_fields(listing.title, listing.tags, listing.summary)
        return dict(id=listing.id, status=listing.status, category=listing.category, title=listing.title,
                    version=listing.version, document=listing.to_dict(), created_at=listing.created_at,
                    updated_at=listing.updated_at, search_title=search["title"], search_tags=search["tags"],
                    search_summary=search["summary"])
