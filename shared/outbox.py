"""Transactional outbox, the writing side: events go into a table in the same transaction as the state change.

shared/relay.py publishes the committed rows; shared/doorbell.py wakes it.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.clock import utcnow
from shared.events import CloudEvent
from shared.logging import current_correlation_id


def define_outbox_table(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    sa.Index("ix_outbox_unpublished", table.c.id,
             postgresql_where=table.c.published_at.is_(None), sqlite_where=table.c.published_at.is_(None))
    return table


class Outbox:
    """Appends events inside the caller's transaction."""

    def __init__(self, connection: Connection, table: sa.Table):
        self._connection = connection
        self._table = table
        self._insert = _plain_insert(table)
        self.added = 0

    def add(self, topic: str, event: CloudEvent) -> None:
        correlation_id = event.correlationid or current_correlation_id()
        if correlation_id and not event.correlationid:
            event = CloudEvent(**{**event.__dict__, "correlationid": correlation_id})
        # The parameters beside one plain INSERT (not .values()): SQLAlchemy reuses its compiled statement
        # instead of building and hashing a new one for every event.
        self._connection.execute(self._insert, dict(
            event_id=event.id, topic=topic, message_key=event.subject, event_type=event.type,
            payload=event.to_json().decode(), correlation_id=correlation_id, created_at=utcnow(),
        ))
        self.added += 1


@functools.cache
def _plain_insert(table: sa.Table) -> sa.Insert:
    return table.insert()


def pending_count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))).scalar_one()
