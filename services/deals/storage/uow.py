"""The deals unit of work: registrations, read model, idempotency, outbox and inbox in one transaction."""
from __future__ import annotations

from services.deals.storage import tables
from services.deals.storage.repository import (
    CatalogReadModel,
    IdempotencyStore,
    ListingCache,
    RateLimitCounters,
    RegistrationRepository,
)
from shared.uow import SqlUnitOfWork


class DealsUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine, *, doorbell=None, listing_cache: ListingCache | None = None):
        super().__init__(engine, outbox_table=tables.outbox, inbox_table=tables.processed_events,
                         source="/dealgate/deals", doorbell=doorbell)
        self._listing_cache = listing_cache

    def open_repositories(self, connection) -> None:
        self.registrations = RegistrationRepository(connection)
        self.catalog = CatalogReadModel(connection, self._listing_cache)
        self.idempotency = IdempotencyStore(connection)
        self.rate_limits = RateLimitCounters(connection)
