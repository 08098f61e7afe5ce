"""The conflict unit of work: registrations, key locks, cases, outbox and inbox in one transaction."""
from __future__ import annotations

from services.conflict.storage import tables
from services.conflict.storage.repository import BlockingLocks, CaseRepository, TrackedRegistrationRepository
from shared.uow import SqlUnitOfWork


class ConflictUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine, *, doorbell=None):
        super().__init__(engine, outbox_table=tables.outbox, inbox_table=tables.processed_events,
                         source="/dealgate/conflict", doorbell=doorbell)

    def open_repositories(self, connection) -> None:
        self.registrations = TrackedRegistrationRepository(connection)
        self.locks = BlockingLocks(connection)
        self.cases = CaseRepository(connection)
