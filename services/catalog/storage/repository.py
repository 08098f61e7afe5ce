"""Loads and saves Listing aggregates as rows."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.catalog.domain.model import Listing
from services.catalog.storage.tables import listings


class ListingRepository:
    def __init__(self, connection: Connection):
        self._connection = connection
        self.seen: list[Listing] = []

    def get(self, listing_id: str, *, for_update: bool = False) -> Listing | None:
        query = sa.select(listings.c.document).where(listings.c.id == listing_id)
        if for_update:
            query = query.with_for_update()
        document = self._connection.execute(query).scalar_one_or_none()
        if document is None:
            return None
        listing = Listing.from_dict(document)
        self.seen.append(listing)
        return listing

    def add(self, listing: Listing) -> None:
        self._connection.execute(listings.insert().values(**self._row(listing)))
        self.seen.append(listing)

    def save(self, listing: Listing, *, expected_version: int) -> bool:
        """Write the new state only if nobody else changed it since `expected_version` (optimistic lock)."""
        result = self._connection.execute(
            listings.update().where(listings.c.id == listing.id, listings.c.version == expected_version)
            .values(**self._row(listing)))
        return result.rowcount == 1

    def list(self, *, include_unpublished: bool, limit: int, after_id: str | None = None) -> list[Listing]:
        query = sa.select(listings.c.document).order_by(listings.c.id).limit(limit)
        if not include_unpublished:
            query = query.where(listings.c.status == "published")
        if after_id:
            query = query.where(listings.c.id > after_id)
        return [Listing.from_dict(d) for d in self._connection.execute(query).scalars()]

    @staticmethod
    def _row(listing: Listing) -> dict:
        return dict(id=listing.id, status=listing.status, category=listing.category, title=listing.title,
                    version=listing.version, document=listing.to_dict(), created_at=listing.created_at,
                    updated_at=listing.updated_at)
