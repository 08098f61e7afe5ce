"""The catalog's unit of work: listings and their outbox in one transaction (the catalog consumes no events)."""
from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Connection, Engine

from services.catalog.domain.events import new_events, unpublished_changes
from services.catalog.domain.model import Listing
from services.catalog.storage import tables
from services.catalog.storage.repository import ListingRepository
from shared.audit import append_entries
from shared.doorbell import Doorbell
from shared.uow import SqlUnitOfWork, UnitOfWork


class CatalogUnitOfWork(UnitOfWork, Protocol):
    """What catalog's handlers need of a unit of work; the SQL one below and the in-memory twin both fit."""

    listings: ListingRepository


class SqlCatalogUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine: Engine, *, doorbell: Doorbell | None = None):
        super().__init__(engine, outbox_table=tables.outbox, new_events=new_events, doorbell=doorbell)

    def open_repositories(self, connection: Connection) -> None:
        self.listings = ListingRepository(connection, self.seen)

    def commit(self) -> None:
        # Drafts change without an event; their changes still go into the audit trail, in the same transaction.
        drafts = [change for listing in self.seen if isinstance(listing, Listing)
                  for change in unpublished_changes(listing)]
        append_entries(self.connection, tables.audit_log, drafts)
        super().commit()
