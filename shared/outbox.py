"""Transactional outbox: events are written with the state change, and a relay publishes them right after commit."""
from __future__ import annotations

import functools
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from shared.bus import OutgoingMessage, Publisher, PublishFailed
from shared.clock import utcnow
from shared.events import CORRELATION_HEADER, CloudEvent
from shared.logging import current_correlation_id

log = structlog.get_logger(__name__)


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
def _plain_insert(table: sa.Table):
    return table.insert()


# --- Waking the relay ------------------------------------------------------------------------------


class UdpDoorbell:
    """A best-effort "something was committed" hint from API processes to the relay process.

    The outbox table stays the source of truth; a lost datagram only means the relay's fallback poll picks the
    row up a little later. This works the same on SQLite and PostgreSQL and costs one sendto per commit.
    """

    def __init__(self, address: tuple[str, int]):
        self.address = address
        self._sender: socket.socket | None = None
        self._pid = None

    def ring(self) -> None:
        import os

        if self._sender is None or self._pid != os.getpid():  # never share a socket across a fork
            self._sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
            self._pid = os.getpid()
        try:
            self._sender.sendto(b"!", self.address)
        except OSError:
            pass

    def listener(self) -> UdpDoorbellListener:
        return UdpDoorbellListener(self.address)


class UdpDoorbellListener:
    def __init__(self, address: tuple[str, int]):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(address)
        self._socket.setblocking(False)

    def wait(self, timeout_s: float) -> None:
        readable, _, _ = select.select([self._socket], [], [], timeout_s)
        if readable:
            try:
                while True:
                    self._socket.recv(64)
            except BlockingIOError:
                pass

    def close(self) -> None:
        self._socket.close()


class ThreadDoorbell:
    """In-process doorbell for tests that run the relay in a thread."""

    def __init__(self):
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def listener(self) -> ThreadDoorbell:
        return self

    def wait(self, timeout_s: float) -> None:
        self._event.wait(timeout_s)
        self._event.clear()

    def close(self) -> None:
        pass


class NullDoorbell:
    def ring(self) -> None:
        pass


# --- The relay -------------------------------------------------------------------------------------


class OutboxRelay:
    """Publishes committed outbox rows in id order; marks them only after the broker acknowledged them.

    A crash between the acknowledgement and the mark publishes those rows again on restart: consumers
    dedupe by event id, so that is at-least-once delivery with exactly-once effect.
    """

    def __init__(self, engine: Engine, table: sa.Table, publisher_factory: Callable[[], Publisher], *,
                 batch_size: int = 500, poll_interval_s: float = 0.5, retention_s: float = 86400.0,
                 on_published: Callable[[int], None] | None = None,
                 after_publish_before_mark: Callable[[], None] | None = None):
        self._engine = engine
        self._table = table
        self._publisher_factory = publisher_factory
        self._publisher: Publisher | None = None
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retention_s = retention_s
        self._on_published = on_published or (lambda count: None)
        self._last_prune = 0.0
        self._after_publish_before_mark = after_publish_before_mark or (lambda: None)

    def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published (0 when the outbox is drained)."""
        t = self._table
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(t.c.id, t.c.topic, t.c.message_key, t.c.payload, t.c.correlation_id)
                .where(t.c.published_at.is_(None)).order_by(t.c.id).limit(self._batch_size)
            ).all()
            connection.rollback()  # no transaction stays open while the broker is waited for
            if not rows:
                return 0
            messages = [
                OutgoingMessage(topic=r.topic, key=r.message_key, value=r.payload.encode(),
                                headers=[("content-type", b"application/cloudevents+json")]
                                + ([(CORRELATION_HEADER, r.correlation_id.encode())] if r.correlation_id else []))
                for r in rows
            ]
            if self._publisher is None:
                self._publisher = self._publisher_factory()
            self._publisher.publish(messages)
            self._after_publish_before_mark()
            with connection.begin():
                connection.execute(t.update().where(t.c.id.in_([r.id for r in rows])).values(published_at=utcnow()))
        self._on_published(len(rows))
        return len(rows)

    def drain(self) -> int:
        total = 0
        while True:
            count = self.publish_pending()
            total += count
            if count < self._batch_size:
                return total  # a short batch was everything committed: no need to ask again

    def prune(self) -> None:
        """Published rows are kept a day for inspection, then removed so the table stays small."""
        cutoff = time.time() - self._retention_s
        import datetime as dt

        with self._engine.begin() as connection:
            connection.execute(self._table.delete().where(
                self._table.c.published_at < dt.datetime.fromtimestamp(cutoff, dt.UTC)))

    def run(self, listener, stop: threading.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                published = self.drain()
                backoff = 0.2
                if published:
                    log.debug("outbox.published", count=published)
                if time.monotonic() - self._last_prune > 600:
                    self.prune()
                    self._last_prune = time.monotonic()
            except (PublishFailed, Exception) as exc:  # noqa: BLE001 - the relay must outlive any outage
                log.warning("outbox.publish_failed", error=str(exc), retry_in_s=backoff)
                self._reset_publisher()
                stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            listener.wait(self._poll_interval_s)

    def _reset_publisher(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.close()
            except Exception:  # noqa: BLE001
                pass
            self._publisher = None

    def close(self) -> None:
        self._reset_publisher()


def pending_count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.published_at.is_(None))).scalar_one()


def iter_payloads(engine: Engine, table: sa.Table) -> Iterable[str]:
    with engine.connect() as connection:
        yield from connection.execute(sa.select(table.c.payload).order_by(table.c.id)).scalars()
