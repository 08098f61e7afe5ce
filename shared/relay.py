"""The outbox relay: publishes committed outbox rows to Kafka in order, and marks them only once acknowledged.

Replicas. Any number of relays of one service may run (PostgreSQL): each batch is published under a transaction-
scoped advisory lock, one number per service, taken before the rows are read and released by the commit that marks
them. So one relay at a time reads, publishes and marks a batch, and the next batch, by whichever relay, starts
where the marks end: no row is published twice in normal running, and every row goes out after every row before it.
That order is not only per key: the conflict consumer judges first come, first served by the order deals'
relay published deal.submitted events across partitions (SPEC section 5), so two relays publishing disjoint
batches side by side (FOR UPDATE SKIP LOCKED) would be wrong here, even though faster. The relays take turns
batch by batch instead of as active and standby, so a doorbell that wakes either one is never lost, and a relay
that dies (even SIGKILLed mid-batch) loses its lock with its connection: the other goes on within a poll.
SQLite (the embedded default) has no such lock: run one relay there (a second one would publish rows twice,
which consumers drop by event id, but would not keep the order).

A row the broker refuses (shared.bus.MessageRejected: too large, no such topic, not authorised) does not stop
the rows behind it: the relay marks the rows acknowledged before it, counts the refusal on the row, backs off and
tries again from that row; after `max_attempts` refusals the row moves to `outbox_dead` with the error and the
rows behind it go on. (When the publisher cannot say which row was refused, the relay goes on row by row.)
An outage (the broker away) counts for nothing and only backs off.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from shared.bus import MessageRejected, OutgoingMessage, Publisher, PublishFailed
from shared.clock import utcnow
from shared.db import advisory_key, is_postgres
from shared.events import CORRELATION_KAFKA_HEADER
from shared.outbox import dead_table_of
from shared.retention import prune_older_than
from shared.worker_health import WorkerHealth

log = structlog.get_logger(__name__)
# How long a relay waits for the other relay's batch before it gives the turn up until its next wake-up.
LEASE_WAIT_S = 5.0


class _Listener(Protocol):
    """What the relay waits on between drains: a doorbell listener, or a plain sleep."""

    def wait(self, timeout_s: float) -> None: ...


class RowRefused(PublishFailed):
    """The broker refused a row that has attempts left: the relay backs off before it tries that row again."""


class OutboxRelay:
    """Publishes committed outbox rows in id order; marks them only after the broker acknowledged them.

    A crash between the acknowledgement and the mark publishes those rows again on restart: consumers
    dedupe by event id, so that is at-least-once delivery with exactly-once effect.
    """

    def __init__(self, engine: Engine, table: sa.Table, publisher_factory: Callable[[], Publisher], *,
                 batch_size: int = 500, poll_interval_s: float = 0.5, retention_s: float = 7 * 86400.0,
                 prune_every_s: float = 600.0,
                 on_published: Callable[[int], None] | None = None,
                 after_publish_before_mark: Callable[[], None] | None = None,
                 max_attempts: int = 5, lease: str | None = None,
                 on_dead: Callable[[int], None] | None = None, gather_s: float = 0.0):
        self._engine = engine
        self._table = table
        self._dead = dead_table_of(table)
        self._publisher_factory = publisher_factory
        self._publisher: Publisher | None = None
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retention_s = retention_s
        self._prune_every_s = prune_every_s
        self._on_published = on_published or (lambda count: None)
        self._on_dead = on_dead or (lambda count: None)
        self._last_prune: float | None = None
        self._after_publish_before_mark = after_publish_before_mark or (lambda: None)
        self._max_attempts = max(1, max_attempts)
        self._gather_s = gather_s
        self._lease_key = advisory_key(f"dealgate-relay:{lease or table.name}") if is_postgres(engine) else None
        # Every pass runs these two: built once, since building a statement costs more client CPU than running it.
        t = table
        self._pending = (sa.select(t.c.id, t.c.event_id, t.c.topic, t.c.message_key, t.c.event_type, t.c.payload,
                                   t.c.correlation_id, t.c.created_at, t.c.attempts)
                         .where(t.c.published_at.is_(None)).order_by(t.c.id).limit(batch_size))
        self._mark_published = (t.update().where(t.c.id.in_(sa.bindparam("published", expanding=True)))
                                .values(published_at=sa.bindparam("now")))

    def publish_pending(self) -> int:
        """Publish one batch; returns how many rows left the outbox (published, or moved to outbox_dead).

        0 when the outbox is drained, or while another relay's batch did not end within LEASE_WAIT_S.
        """
        with self._engine.connect() as connection:
            if self._lease_key is not None and not self._take_turn(connection):
                return 0
            rows = connection.execute(self._pending).all()
            if self._lease_key is None or not rows:
                # SQLite: no transaction stays open while the broker is waited for (it would hold the API's writers)
                connection.rollback()
            if not rows:
                return 0
            published, refused = self._send(rows)
            self._after_publish_before_mark()
            if self._lease_key is None:
                connection.begin()
            dead = self._record(connection, rows, published, refused)
            connection.commit()  # on PostgreSQL this also ends the turn: the next batch starts after these marks
        if published:
            self._on_published(len(published))
        if dead:
            self._on_dead(len(dead))
        retried = [row for row in rows if row.id in refused and row.id not in dead]
        if retried:
            row = retried[0]
            raise RowRefused(f"outbox row {row.id} ({row.event_type} to {row.topic}) refused, attempt "
                             f"{row.attempts + 1} of {self._max_attempts}: {refused[row.id]}")
        return len(published) + len(dead)

    def _take_turn(self, connection: Connection) -> bool:
        """Wait (at most LEASE_WAIT_S) for this service's relay lock, inside the transaction that marks the batch."""
        connection.begin()
        try:
            # One round trip: the wait limit for this transaction (set_config(..., true) is SET LOCAL), then the lock.
            connection.execute(_TAKE_TURN, {"timeout": f"{int(LEASE_WAIT_S * 1000)}ms", "key": self._lease_key})
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available: the other relay is slow
                raise
            connection.rollback()
            log.info("relay.turn_not_taken", waited_s=LEASE_WAIT_S)
            return False
        return True

    def _send(self, rows: Sequence[Any]) -> tuple[list[int], dict[int, str]]:
        """Publish in id order; returns the ids published and the rows the broker refused, with their errors.

        The batch goes at once. When the broker refuses a row in it, the rows before it are acknowledged (the
        publisher says which row it was), the row is counted, and the rest follows as a batch again if the row has
        no attempts left; if the publisher cannot say which row it was, the rest goes row by row. Raises
        PublishFailed when the broker itself is away before anything went out (nothing is counted then).
        """
        published: list[int] = []
        refused: dict[int, str] = {}
        remaining = list(rows)
        while remaining:
            try:
                self._current_publisher().publish([_message(row) for row in remaining])
                published += [row.id for row in remaining]
                return published, refused
            except MessageRejected as exc:
                self._reset_publisher()  # a refused message can leave an idempotent producer failing every send
                if exc.acknowledged is None:
                    log.info("outbox.batch_refused", size=len(remaining), error=str(exc)[:300])
                    return self._send_one_by_one(remaining, published, refused)
                published += [row.id for row in remaining[:exc.acknowledged]]
                row = remaining[exc.acknowledged]
                refused[row.id] = _refusal(exc, row)
                if row.attempts + 1 < self._max_attempts:
                    break  # it gets another try after the back-off; the rows behind it keep their place
                remaining = remaining[exc.acknowledged + 1:]  # it moves to outbox_dead: the rows behind it go on
            except PublishFailed:
                # The broker's failure (away, or its leader moving): nothing is counted against any row.
                self._reset_publisher()
                if published or refused:
                    break  # keep what was done; the run loop backs off and the rest follows
                raise
        return published, refused

    def _send_one_by_one(self, rows: Sequence[Any], published: list[int],
                         refused: dict[int, str]) -> tuple[list[int], dict[int, str]]:
        for row in rows:
            try:
                self._current_publisher().publish([_message(row)])
            except MessageRejected as exc:
                self._reset_publisher()
                refused[row.id] = _refusal(exc, row)
                if row.attempts + 1 < self._max_attempts:
                    break
                continue
            except PublishFailed:
                self._reset_publisher()
                if published or refused:
                    break
                raise
            published.append(row.id)
        return published, refused

    def _record(self, connection: Connection, rows: Sequence[Any], published: list[int],
                refused: dict[int, str]) -> set[int]:
        """Mark the published rows; count each refusal, and move the rows out of attempts to outbox_dead."""
        t = self._table
        now = utcnow()
        if published:
            connection.execute(self._mark_published, {"published": published, "now": now})
        dead: set[int] = set()
        for row in rows:
            if row.id not in refused:
                continue
            attempts = row.attempts + 1
            if attempts < self._max_attempts:
                connection.execute(t.update().where(t.c.id == row.id).values(attempts=attempts))
                log.warning("outbox.row_refused", id=row.id, event_id=row.event_id, topic=row.topic,
                            attempt=attempts, of=self._max_attempts, error=refused[row.id][:300])
                continue
            connection.execute(self._dead.insert().values(
                id=row.id, event_id=row.event_id, topic=row.topic, message_key=row.message_key,
                event_type=row.event_type, payload=row.payload, correlation_id=row.correlation_id,
                created_at=row.created_at, attempts=attempts, error=refused[row.id], failed_at=now))
            connection.execute(t.delete().where(t.c.id == row.id))
            dead.add(row.id)
            log.error("outbox.dead_lettered", id=row.id, event_id=row.event_id, topic=row.topic,
                      event_type=row.event_type, attempts=attempts, error=refused[row.id][:300])
        return dead

    def drain(self) -> int:
        total = 0
        while True:
            count = self.publish_pending()
            total += count
            if count < self._batch_size:
                return total  # a short batch was everything committed: no need to ask again

    def prune(self) -> int:
        """Published rows are kept `retention_s` (DEALGATE_RETENTION_DAYS) for inspection, then removed so the table
        stays small; returns how many, which retention_pruned counts for /metrics (shared/retention.py)."""
        cutoff = dt.datetime.fromtimestamp(time.time() - self._retention_s, dt.UTC)
        pruned = prune_older_than(self._engine, self._table, self._table.c.published_at, cutoff)
        if pruned:
            log.info("retention.pruned", table=self._table.name, rows=pruned)
        return pruned

    def run(self, listener: _Listener, stop: threading.Event, health: WorkerHealth | None = None) -> None:
        backoff = 0.2
        busy_since = -float("inf")  # when the last pass that published something started
        while not stop.is_set():
            # While rows keep coming, a pass starts at most every gather_s: commits that ring meanwhile go out
            # together (see batch_gather_s). After an idle pass the next ring is answered at once.
            if (gather := busy_since + self._gather_s - time.monotonic()) > 0:
                stop.wait(gather)
            started = time.monotonic()
            try:
                published = self.drain()
                backoff = 0.2
                if published:
                    busy_since = started
                    log.debug("outbox.published", count=published)
                if self._last_prune is None or time.monotonic() - self._last_prune > self._prune_every_s:
                    self.prune()
                    self._last_prune = time.monotonic()
                if health is not None:
                    health.passed()
            except (PublishFailed, Exception) as exc:  # noqa: BLE001 - the relay must outlive any outage
                log.warning("outbox.publish_failed", error=str(exc)[:500], retry_in_s=backoff)
                if health is not None:
                    health.failed(f"{type(exc).__name__}: {exc}")
                self._reset_publisher()
                stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            listener.wait(self._poll_interval_s)

    def _current_publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = self._publisher_factory()
        return self._publisher

    def _reset_publisher(self) -> None:
        if self._publisher is not None:
            with contextlib.suppress(Exception):  # a broken publisher is replaced anyway
                self._publisher.close()
            self._publisher = None

    def close(self) -> None:
        self._reset_publisher()


_TAKE_TURN = sa.text("SELECT set_config('lock_timeout', :timeout, true), pg_advisory_xact_lock(:key)")


def _message(row: Any) -> OutgoingMessage:
    return OutgoingMessage(topic=row.topic, key=row.message_key, value=row.payload.encode(),
                           headers=[("content-type", b"application/cloudevents+json")]
                           + ([(CORRELATION_KAFKA_HEADER, row.correlation_id.encode())] if row.correlation_id else []))


def _refusal(exc: Exception, row: Any) -> str:
    return f"{str(exc)[:3900]} (the message: {len(row.payload.encode())} bytes of payload)"
