"""The deals unit of work: registrations, read model, outbox and inbox in one transaction."""
from __future__ import annotations

from services.deals.storage import tables
from services.deals.storage.repository import CatalogReadModel, RegistrationRepository
from shared.uow import SqlUnitOfWork


class DealsUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine, *, doorbell=None):
        super().__init__(engine, outbox_table=tables.outbox, inbox_table=tables.processed_events,
                         source="/dealgate/deals", doorbell=doorbell)

    def open_repositories(self, connection) -> None:
        self.registrations = RegistrationRepository(connection)
        self.catalog = CatalogReadModel(connection)
