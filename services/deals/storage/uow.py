"""The deals unit of work: registrations, read model, idempotency, outbox and inbox in one transaction."""
from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Connection, Engine

from services.deals.domain.events import new_events
from services.deals.storage import tables
from services.deals.storage.leads import Leads, PartnerProfiles, PartnerRecords, TerritoryReadModel
from services.deals.storage.repository import (
    CatalogReadModel,
    IdempotencyStore,
    ListingCache,
    PersonalDataCopies,
    RateLimitCounters,
    RegistrationRepository,
)
from shared.doorbell import Doorbell
from shared.uow import ConsumingUnitOfWork, SqlUnitOfWork


class DealsUnitOfWork(ConsumingUnitOfWork, Protocol):
    """What deals' handlers need of a unit of work; the SQL one below and the in-memory twin both fit."""

    registrations: RegistrationRepository
    catalog: CatalogReadModel
    idempotency: IdempotencyStore
    rate_limits: RateLimitCounters
    personal_data: PersonalDataCopies
    partners: PartnerProfiles
    leads: Leads
    partner_records: PartnerRecords
    territories: TerritoryReadModel


class SqlDealsUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine: Engine, *, doorbell: Doorbell | None = None, listing_cache: ListingCache | None = None):
        super().__init__(engine, outbox_table=tables.outbox, inbox_table=tables.processed_events,
                         new_events=new_events, doorbell=doorbell)
        self._listing_cache = listing_cache

    def open_repositories(self, connection: Connection) -> None:
        self.registrations = RegistrationRepository(connection, self.seen)
        self.catalog = CatalogReadModel(connection, self._listing_cache)
        self.idempotency = IdempotencyStore(connection)
        self.rate_limits = RateLimitCounters(connection)
        self.personal_data = PersonalDataCopies(connection)
        self.partners = PartnerProfiles(connection, self.seen)
        self.leads = Leads(connection, self.seen)
        self.partner_records = PartnerRecords(connection)
        self.territories = TerritoryReadModel(connection)
