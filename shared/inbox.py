"""The inbox: the ids of consumed events, recorded in the same transaction as their effect (shared/consumer.py)."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import ReturningInsert

from shared.clock import utcnow
from shared.events import CloudEvent


def define_inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "processed_events", metadata,
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_processed_events_processed_at", "processed_at"),  # retention prunes by age (shared/retention.py)
    )


class Inbox:
    def __init__(self, connection: Connection, table: sa.Table):
        self._connection = connection
        self._table = table

    def mark_processed(self, event: CloudEvent, topic: str) -> bool:
        """Record the event id; False when it was already processed (so the caller applies nothing).

        One statement: insert unless the id is there, and say whether it inserted. The primary key also
        settles a race between two consumers: the later insert waits for the earlier transaction and then
        inserts nothing.
        """
        inserted = self._connection.execute(
            _insert_unless_present(self._table, self._connection.dialect.name),
            dict(event_id=event.id, topic=topic, event_type=event.type, processed_at=utcnow())).first()
        return inserted is not None

    def mark_many(self, events: Sequence[tuple[CloudEvent, str]]) -> list[bool]:
        """mark_processed for a batch in one statement; for each (event, topic), whether it is new.

        An id twice in the batch is new only the first time, as if marked one by one.
        """
        if not events:
            return []
        now = utcnow()
        rows = [dict(event_id=event.id, topic=topic, event_type=event.type, processed_at=now)
                for event, topic in events]
        inserted = set(self._connection.execute(
            _insert_unless_present(self._table, self._connection.dialect.name), rows).scalars())
        first_time = []
        for event, _ in events:
            first_time.append(event.id in inserted)
            inserted.discard(event.id)
        return first_time


@functools.cache
def _insert_unless_present(table: sa.Table, dialect: str) -> ReturningInsert[Any]:
    """Built once per table and dialect: SQLAlchemy then reuses its compiled form for every event."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).on_conflict_do_nothing(index_elements=["event_id"]).returning(table.c.event_id)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["event_id"]).returning(table.c.event_id)
    raise RuntimeError(f"the inbox needs INSERT ... ON CONFLICT, which {dialect} lacks here")
