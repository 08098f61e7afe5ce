"""The catalog's unit of work: listings, outbox and inbox in one transaction."""
from __future__ import annotations

from services.catalog.storage import tables
from services.catalog.storage.repository import ListingRepository
from shared.uow import SqlUnitOfWork


class CatalogUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine, *, doorbell=None):
        super().__init__(engine, outbox_table=tables.outbox, inbox_table=tables.processed_events,
                         source="/dealgate/catalog", doorbell=doorbell)

    def open_repositories(self, connection) -> None:
        self.listings = ListingRepository(connection)
