"""Retention: bookkeeping rows past their use are deleted, and each service's database counts what was deleted.

What is kept, and who prunes it:
- `processed_events` (the inbox), DEALGATE_RETENTION_DAYS (7): the consumer process, in a background thread
  (`Retention.keep_pruning`, like shared.db.PlannerStatistics). An event id is needed only while its message may be
  delivered again, which is until the consumer's offset is committed after it: seconds, not days.
- published `outbox` rows, the same DEALGATE_RETENTION_DAYS: the relay (shared/relay.py), for inspection until then.
- deals' `idempotency_records`, 24 h (a key replays for that long): the deals expire worker.

The counts live in `retention_pruned` (one row per pruned table, added to in the transaction that deletes), not in
the pruning process's Prometheus counters: relays, consumers and the expire worker have no /metrics of their own.
Each API's /metrics reads them (`RetentionCollector`) as `dealgate_retention_pruned_total{service, table}`.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa
import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.engine import Connection, Engine

from shared.clock import utcnow

log = structlog.get_logger(__name__)
TABLE_NAME = "retention_pruned"
DAY_S = 86400.0
BATCH_SIZE = 5000


def define_retention_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE_NAME, metadata,
        sa.Column("table_name", sa.String(100), primary_key=True),
        sa.Column("pruned", sa.BigInteger, nullable=False),
        sa.Column("last_pruned_at", sa.DateTime(timezone=True)),
    )


# The same table for code that has no service metadata at hand (the expire worker's repository, the collector).
_COUNTS = sa.table(TABLE_NAME, sa.column("table_name", sa.String), sa.column("pruned", sa.BigInteger),
                   sa.column("last_pruned_at", sa.DateTime(timezone=True)))


def retention_table_of(table: sa.Table) -> sa.Table | None:
    """The retention_pruned table defined beside `table`, if its service has one."""
    return table.metadata.tables.get(TABLE_NAME) if table.metadata is not None else None


def count_pruned(connection: Connection, table_name: str, count: int, *, now: dt.datetime | None = None) -> None:
    """Add `count` to the table's tally, in the caller's transaction (the migration seeds a row per table)."""
    if count <= 0:
        return
    now = now or utcnow()
    updated = connection.execute(_COUNTS.update().where(_COUNTS.c.table_name == table_name)
                                 .values(pruned=_COUNTS.c.pruned + count, last_pruned_at=now))
    if updated.rowcount == 0:
        connection.execute(_COUNTS.insert().values(table_name=table_name, pruned=count, last_pruned_at=now))


def prune_older_than(engine: Engine, table: sa.Table, column: sa.Column[dt.datetime], cutoff: dt.datetime, *,
                     batch_size: int | None = None) -> int:
    """Delete the rows of `table` whose `column` is before `cutoff`; returns how many.

    Batch by batch, each batch and its count in one short transaction, so a large backlog neither holds locks long
    nor loses its count. Rows whose `column` is NULL (an outbox row not yet published) are never before anything.
    """
    batch_size = batch_size or BATCH_SIZE
    key = list(table.primary_key.columns)[0]
    counted = retention_table_of(table) is not None
    total = 0
    while True:
        with engine.begin() as connection:
            doomed = sa.select(key).where(column < cutoff).limit(batch_size).scalar_subquery()
            deleted = connection.execute(table.delete().where(key.in_(doomed))).rowcount
            if counted:
                count_pruned(connection, table.name, deleted)
        total += deleted
        if deleted < batch_size:
            return total


class Retention:
    """Prunes one table's rows older than `keep_s`, at most once every `every_s` seconds."""

    def __init__(self, engine: Engine, table: sa.Table, column: sa.Column[dt.datetime], *, keep_s: float,
                 every_s: float = 600.0, clock: Callable[[], dt.datetime] = utcnow):
        self._engine = engine
        self._table = table
        self._column = column
        self._keep = dt.timedelta(seconds=keep_s)
        self._every_s = every_s
        self._clock = clock

    def prune(self) -> int:
        pruned = prune_older_than(self._engine, self._table, self._column, self._clock() - self._keep)
        if pruned:
            log.info("retention.pruned", table=self._table.name, rows=pruned)
        return pruned

    def keep_pruning(self, stop: threading.Event) -> None:
        """Prune now and then every `every_s` until `stop` is set; a database outage only postpones it."""
        while not stop.is_set():
            try:
                self.prune()
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again next round
                log.warning("retention.prune_failed", table=self._table.name, error=str(exc)[:300])
            stop.wait(self._every_s)


class RetentionCollector:
    """`retention_pruned` as Prometheus counters on the API's /metrics, read on scrape (cached a few seconds)."""

    def __init__(self, engine: Engine, service: str, *, cache_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self._engine = engine
        self._service = service
        self._cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._measured_at: float | None = None
        self._rows: list[tuple[str, int, dt.datetime | None]] = []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._measured_at is None or self._clock() - self._measured_at > self._cache_s:
                try:
                    with self._engine.connect() as connection:
                        self._rows = [(row.table_name, int(row.pruned), row.last_pruned_at) for row in
                                      connection.execute(sa.select(_COUNTS).order_by(_COUNTS.c.table_name))]
                except Exception as exc:  # noqa: BLE001 - a scrape while the database is away omits these
                    log.info("metrics.retention_unavailable", error=str(exc)[:200])
                    self._rows = []
                self._measured_at = self._clock()
            rows = self._rows
        if not rows:
            return
        pruned = CounterMetricFamily("dealgate_retention_pruned", "Rows deleted by retention (processed_events, "
                                     "published outbox rows, idempotency records)", labels=["service", "table"])
        last = GaugeMetricFamily("dealgate_retention_last_pruned_timestamp_seconds",
                                 "When retention last deleted rows of the table", labels=["service", "table"])
        for table_name, count, at in rows:
            pruned.add_metric([self._service, table_name], count)
            if at is not None:
                last.add_metric([self._service, table_name], _aware(at).timestamp())
        yield pruned
        yield last


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
