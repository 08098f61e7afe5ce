"""The outbox relay: publishes committed outbox rows to Kafka in order, and marks them only once acknowledged."""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from shared.bus import OutgoingMessage, Publisher, PublishFailed
from shared.clock import utcnow
from shared.events import CORRELATION_KAFKA_HEADER

log = structlog.get_logger(__name__)


class _Listener(Protocol):
    """What the relay waits on between drains: a doorbell listener, or a plain sleep."""

    def wait(self, timeout_s: float) -> None: ...


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
                                + ([(CORRELATION_KAFKA_HEADER, r.correlation_id.encode())] if r.correlation_id else []))
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
        with self._engine.begin() as connection:
            connection.execute(self._table.delete().where(
                self._table.c.published_at < dt.datetime.fromtimestamp(cutoff, dt.UTC)))

    def run(self, listener: _Listener, stop: threading.Event) -> None:
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
            with contextlib.suppress(Exception):  # a broken publisher is replaced anyway
                self._publisher.close()
            self._publisher = None

    def close(self) -> None:
        self._reset_publisher()
