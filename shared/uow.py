"""The unit of work: one database transaction holding the state change, its outbox events and its inbox record."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.doorbell import NullDoorbell
from shared.events import CloudEvent
from shared.inbox import Inbox
from shared.outbox import Outbox


class SqlUnitOfWork:
    """Subclasses add their repositories in `open_repositories(connection)`."""

    def __init__(self, engine: Engine, *, outbox_table: sa.Table, inbox_table: sa.Table, source: str,
                 doorbell=None):
        self._engine = engine
        self._outbox_table = outbox_table
        self._inbox_table = inbox_table
        self.source = source
        self._doorbell = doorbell or NullDoorbell()
        self.connection: Connection | None = None

    def open_repositories(self, connection: Connection) -> None:
        pass

    def __enter__(self):
        self.connection = self._engine.connect()
        self._transaction = self.connection.begin()
        self.outbox = Outbox(self.connection, self._outbox_table)
        self.inbox = Inbox(self.connection, self._inbox_table)
        self.open_repositories(self.connection)
        return self

    def publish(self, topic: str, event: CloudEvent) -> None:
        self.outbox.add(topic, event)

    def commit(self) -> None:
        self._transaction.commit()
        if self.outbox.added:
            self._doorbell.ring()

    def rollback(self) -> None:
        if self._transaction.is_active:
            self._transaction.rollback()

    def __exit__(self, *exc_info):
        self.rollback()
        self.connection.close()
        return False


class FakeInbox:
    def __init__(self):
        self.processed: set[str] = set()

    def mark_processed(self, event: CloudEvent, topic: str) -> bool:
        if event.id in self.processed:
            return False
        self.processed.add(event.id)
        return True


class FakeUnitOfWorkBase:
    """In-memory twin for unit tests: `published` holds (topic, event) pairs once committed."""

    def __init__(self, source: str = "test"):
        self.source = source
        self.published: list[tuple[str, CloudEvent]] = []
        self._pending: list[tuple[str, CloudEvent]] = []
        self.inbox = FakeInbox()
        self.committed = 0

    def __enter__(self):
        self._pending = []
        return self

    def publish(self, topic: str, event: CloudEvent) -> None:
        self._pending.append((topic, event))

    def commit(self) -> None:
        self.published.extend(self._pending)
        self._pending = []
        self.committed += 1

    def rollback(self) -> None:
        self._pending = []

    def __exit__(self, *exc_info):
        self.rollback()
        return False

    def events_of_type(self, event_type: str) -> list[CloudEvent]:
        return [event for _, event in self.published if event.type == event_type]
