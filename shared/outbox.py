"""Transactional outbox, the writing side: events go into a table in the same transaction as the state change.

shared/relay.py publishes the committed rows; shared/doorbell.py wakes it. A row the broker keeps refusing moves
to `outbox_dead` with its error, so it never holds up the rows behind it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.clock import utcnow
from shared.events import CloudEvent
from shared.logging import current_correlation_id


def _message_columns(*, autoincrement: bool) -> list[sa.Column[Any]]:
    """What an outbox row holds of its message; outbox_dead keeps the same, so a dead row can be put back."""
    return [
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=autoincrement),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def define_outbox_table(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table(
        "outbox", metadata,
        *_message_columns(autoincrement=True),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        # How many times the broker refused this row (shared.bus.MessageRejected); at the relay's limit it moves
        # to outbox_dead. An outage counts for nothing here.
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    sa.Index("ix_outbox_unpublished", table.c.id,
             postgresql_where=table.c.published_at.is_(None), sqlite_where=table.c.published_at.is_(None))
    define_outbox_dead_table(metadata)
    return table


def define_outbox_dead_table(metadata: sa.MetaData) -> sa.Table:
    """Rows the relay gave up on, with the broker's last error: everything needed to look, fix and re-queue
    (an INSERT ... SELECT of the outbox's columns back into the outbox publishes one again)."""
    return sa.Table(
        "outbox_dead", metadata,
        *_message_columns(autoincrement=False),  # keeps the outbox row's id
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )


def dead_table_of(outbox: sa.Table) -> sa.Table:
    """The outbox_dead table defined beside `outbox` by define_outbox_table."""
    assert outbox.metadata is not None  # noqa: S101 - a Table always has its MetaData
    return outbox.metadata.tables["outbox_dead"]


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

    def add_many(self, events: Iterable[tuple[str, CloudEvent]]) -> None:
        """Every (topic, event) of a commit in one statement (an executemany SQLAlchemy sends as one multi-row
        INSERT), in their order: a consumer's batch of fifty verdicts is one round trip, not fifty."""
        self.insert_rows(outbox_rows(events))

    def insert_rows(self, rows: list[dict[str, Any]]) -> None:
        if len(rows) == 1:
            self._connection.execute(self._insert, rows[0])
        elif rows:
            self._connection.execute(self._insert, rows)
        self.added += len(rows)


def outbox_rows(events: Iterable[tuple[str, CloudEvent]]) -> list[dict[str, Any]]:
    """The outbox rows of (topic, event) pairs, in their order; an event without a correlation id gets the
    request's or the consumed event's."""
    rows = []
    now = utcnow()
    for topic, event in events:
        correlation_id = event.correlationid or current_correlation_id()
        if correlation_id and not event.correlationid:
            event = CloudEvent(**{**event.__dict__, "correlationid": correlation_id})
        rows.append(dict(event_id=event.id, topic=topic, message_key=event.subject, event_type=event.type,
                         payload=event.to_json().decode(), correlation_id=correlation_id, created_at=now))
    return rows


@functools.cache
def _plain_insert(table: sa.Table) -> sa.Insert:
    return table.insert()


def pending_count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))).scalar_one()


@dataclasses.dataclass(frozen=True)
class OutboxState:
    backlog: int  # rows committed and not yet published
    oldest_pending_age_s: float  # how long the oldest of them has waited (0 when there is none)
    dead: int  # rows in outbox_dead


def outbox_state(engine: Engine, *, now: dt.datetime | None = None) -> OutboxState:
    """The figures /metrics exports; the outbox and outbox_dead tables have these names in every service."""
    with engine.connect() as connection:
        backlog, oldest = connection.execute(sa.text(
            "SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL")).one()
        dead = connection.execute(sa.text("SELECT count(*) FROM outbox_dead")).scalar_one()
    if isinstance(oldest, str):  # SQLite hands back text for an aggregate over a DateTime column
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)  # SQLite stores naive UTC
    age = max(0.0, ((now or utcnow()) - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxState(backlog=int(backlog), oldest_pending_age_s=age, dead=int(dead))
