"""The conflict unit of work: registrations, key locks, cases, outbox and inbox in one transaction."""
from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Connection, Engine

from services.conflict.domain.events import new_events
from services.conflict.storage import tables
from services.conflict.storage.repository import (
    BlockingLocks,
    CaseRepository,
    ListingTitles,
    TrackedRegistrationRepository,
)
from services.conflict.storage.territories import LeadBoard, PartnerDirectory, TerritoryRepository
from shared.doorbell import Doorbell
from shared.uow import ConsumingUnitOfWork, SqlUnitOfWork


class ConflictUnitOfWork(ConsumingUnitOfWork, Protocol):
    """What conflict's handlers need of a unit of work; the SQL one below and the in-memory twin both fit."""

    registrations: TrackedRegistrationRepository
    locks: BlockingLocks
    cases: CaseRepository
    listing_titles: ListingTitles
    territories: TerritoryRepository
    partners: PartnerDirectory
    lead_board: LeadBoard


class SqlConflictUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine: Engine, *, doorbell: Doorbell | None = None):
        super().__init__(engine, outbox_table=tables.outbox, inbox_table=tables.processed_events,
                         new_events=new_events, doorbell=doorbell)

    def open_repositories(self, connection: Connection) -> None:
        self.registrations = TrackedRegistrationRepository(connection, self.seen)
        self.locks = BlockingLocks(connection)
        self.cases = CaseRepository(connection, self.seen)
        self.listing_titles = ListingTitles(connection)
        self.territories = TerritoryRepository(connection, self.seen)
        self.partners = PartnerDirectory(connection)
        self.lead_board = LeadBoard(connection)
