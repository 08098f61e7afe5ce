"""The unit of work: one transaction holding a state change, the events its aggregates recorded, and the inbox record.

Handlers never write events themselves. Repositories register every aggregate they load or store with the unit
of work, and `commit()` collects what those aggregates recorded into the outbox, in the same transaction, so a
handler cannot forget an event (cosmicpython's `collect_new_events`, with an outbox behind it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Literal, Protocol, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.audit import append_entries, append_entries_with_outbox, audit_tables_of
from shared.doorbell import Doorbell, NullDoorbell
from shared.events import CloudEvent
from shared.inbox import Inbox
from shared.outbox import Outbox, outbox_rows

# What an aggregate recorded, as the messages to publish: drains `aggregate.events` (see each service's
# domain/events.py).
NewEvents = Callable[[Any], Iterable[tuple[str, CloudEvent]]]


class Aggregate(Protocol):
    """Anything that records what happened to it in `events`, for the unit of work to publish at commit."""

    events: list[Any]


class SeenAggregates:
    """The aggregates a unit of work loaded or stored, in the order they were last stored.

    Registering again moves an aggregate to the end: handlers change and then store, so this order is the order
    in which events were recorded across aggregates, and consumers rely on that (a clearance before the case
    that later takes the same registration).
    """

    def __init__(self) -> None:
        self._by_identity: dict[int, Aggregate] = {}

    def add(self, aggregate: Aggregate) -> None:
        self._by_identity.pop(id(aggregate), None)
        self._by_identity[id(aggregate)] = aggregate

    def __iter__(self) -> Iterator[Aggregate]:
        return iter(list(self._by_identity.values()))

    def clear(self) -> None:
        self._by_identity.clear()


def collect_new_events(seen: SeenAggregates, new_events: NewEvents) -> list[tuple[str, CloudEvent]]:
    collected: list[tuple[str, CloudEvent]] = []
    for aggregate in seen:
        if aggregate.events:
            collected.extend(new_events(aggregate))
    seen.clear()
    return collected


class ProcessedEvents(Protocol):
    def mark_processed(self, event: CloudEvent, topic: str) -> bool: ...


class UnitOfWork(Protocol):
    """What every handler receives as `uow`; each service's own protocol adds its repositories."""

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> bool | None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class ConsumingUnitOfWork(UnitOfWork, Protocol):
    """The unit of work of a service that consumes events: its inbox records each one in the same transaction."""

    @property
    def inbox(self) -> ProcessedEvents: ...


class SqlUnitOfWork:
    """Subclasses open their repositories in `open_repositories(connection)`, each given `self.seen`.

    `inbox_table` only for a service that consumes events (catalog consumes none).
    """

    inbox: Inbox

    def __init__(self, engine: Engine, *, outbox_table: sa.Table, new_events: NewEvents,
                 inbox_table: sa.Table | None = None, doorbell: Doorbell | None = None):
        self._engine = engine
        self._outbox_table = outbox_table
        self._inbox_table = inbox_table
        self._new_events = new_events
        self._doorbell: Doorbell = doorbell or NullDoorbell()
        self.seen = SeenAggregates()
        audit = audit_tables_of(outbox_table)
        self._audit_log = audit[0] if audit else None

    def open_repositories(self, connection: Connection) -> None:
        pass

    def __enter__(self) -> Self:
        self.connection = self._engine.connect()
        self._transaction = self.connection.begin()
        self.seen.clear()
        self.outbox = Outbox(self.connection, self._outbox_table)
        if self._inbox_table is not None:
            self.inbox = Inbox(self.connection, self._inbox_table)
        self.open_repositories(self.connection)
        return self

    def commit(self) -> None:
        collected = collect_new_events(self.seen, self._new_events)
        if self._audit_log is None:
            self.outbox.add_many(collected)  # one INSERT for all of them
        elif collected and self.connection.dialect.name == "postgresql":
            # every state change's audit entry, in its own transaction and in the outbox's statement
            rows = outbox_rows(collected)
            append_entries_with_outbox(self.connection, self._outbox_table, rows, self._audit_log,
                                       [event for _, event in collected])
            self.outbox.added += len(rows)
        else:
            self.outbox.add_many(collected)
            append_entries(self.connection, self._audit_log, (event for _, event in collected))
        self._transaction.commit()
        if self.outbox.added:
            self._doorbell.ring()

    def rollback(self) -> None:
        self.seen.clear()
        if self._transaction.is_active:
            self._transaction.rollback()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        self.rollback()
        self.connection.close()
        return False


class FakeInbox:
    def __init__(self) -> None:
        self.processed: set[str] = set()

    def mark_processed(self, event: CloudEvent, topic: str) -> bool:
        if event.id in self.processed:
            return False
        self.processed.add(event.id)
        return True


class FakeUnitOfWorkBase:
    """In-memory twin for unit tests: `published` holds (topic, event) pairs once committed.

    Fake repositories register aggregates with `self.seen`, exactly as the SQL ones do.
    """

    def __init__(self, new_events: NewEvents):
        self._new_events = new_events
        self.seen = SeenAggregates()
        self.published: list[tuple[str, CloudEvent]] = []
        self.inbox = FakeInbox()
        self.committed = 0

    def __enter__(self) -> Self:
        self.seen.clear()
        return self

    def commit(self) -> None:
        self.published.extend(collect_new_events(self.seen, self._new_events))
        self.committed += 1

    def rollback(self) -> None:
        self.seen.clear()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        self.rollback()
        return False

    def events_of_type(self, event_type: str) -> list[CloudEvent]:
        return [event for _, event in self.published if event.type == event_type]
