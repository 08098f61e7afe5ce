"""Engines for SQLite (WAL, the embedded default) and PostgreSQL, and Alembic upgrades run from code."""
from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = structlog.get_logger(__name__)


def normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the URLs people usually paste.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(url: str, *, pool_size: int = 5, ping_after_idle_s: float | None = None) -> Engine:
    """An engine whose errors never show the statement's parameters (`hide_parameters`): they are registrations,
    contacts and tokens' partner ids, and a database error's text reaches logs and DLQ headers."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)
        _use_wal_and_immediate_transactions(engine)
        return engine
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=1800, hide_parameters=True)
    _ping_after_idle(engine, PING_AFTER_IDLE_S if ping_after_idle_s is None else ping_after_idle_s)
    return engine


# A pooled connection that sat idle this long is pinged before use; one used moments ago is not. SQLAlchemy's
# pool_pre_ping pinged at every checkout: a round trip per transaction on both ends, in every request, relay
# pass and consumer batch (a tenth of a webhooks consumer's CPU). A connection that dies within the window (the
# database restarted under a busy process) fails its one statement instead; that error invalidates the whole pool,
# and every caller treats it as transient: consumers and relays retry, the API answers 503 with Retry-After.
PING_AFTER_IDLE_S = 1.0


def _ping_after_idle(engine: Engine, idle_s: float) -> None:
    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_s:
            return  # new, or used moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises, this connection is done
            raise sa.exc.DisconnectionError(f"pooled connection failed its ping: {exc}") from exc
        if not alive:
            raise sa.exc.DisconnectionError("pooled connection failed its ping")


def _use_wal_and_immediate_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:  # a DB-API connection
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (pysqlite's own BEGIN is deferred
        # and races with other processes into "database is locked" on the read-to-write upgrade).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def one_of(column: sa.ColumnElement[Any], values: Iterable[Any], connection: sa.Connection) -> sa.ColumnElement[bool]:
    """`column IN values` that stays cheap on PostgreSQL's cached (generic) plans.

    psycopg prepares a statement after a few runs, and PostgreSQL may then plan it once for any parameters.
    `IN (:p1, ..., :pn)` is n parameters: a generic plan rebuilds and casts that array for every row it
    filters (8 ms over a few hundred rows, seen in the conflict consumer), and each list length is another
    statement. `= ANY(:values)` is one array parameter, read once, and one statement for every length.
    """
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


class PlannerStatistics:
    """ANALYZE the tables that changed a lot since their last analysis (PostgreSQL; a no-op on SQLite).

    Autovacuum looks once a minute. A table that grows from empty in that minute keeps the plans made while
    it was tiny: sequential scans, and a statement psycopg prepared keeps its cached generic plan until the
    table is analyzed again (the conflict consumer's key lookup scanned 20,000 rows per call that way).
    Consumers run `keep_fresh` in a background thread (an ANALYZE of a big table takes tens of milliseconds,
    which the consumer's own loop should not wait for); it checks every `every_s` seconds, with one query.
    """

    def __init__(self, engine: Engine, tables: Iterable[str], *, every_s: float = 5.0, min_changes: int = 200,
                 share: float = 0.2, clock: Callable[[], float] = time.monotonic):
        self._engine = engine
        self._tables = list(tables)
        self._every_s = every_s
        self._min_changes = min_changes
        self._share = share
        self._clock = clock
        self._last_check: float | None = None

    def refresh(self) -> list[str]:
        """Analyze the tables whose changes since their last ANALYZE reach `share` of their rows; returns them."""
        now = self._clock()
        if not is_postgres(self._engine) or (self._last_check is not None and now - self._last_check < self._every_s):
            return []
        self._last_check = now
        with self._engine.connect() as connection:
            stale = list(connection.execute(sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:tables) "
                "AND n_mod_since_analyze >= GREATEST(:min_changes, n_live_tup * :share) ORDER BY relname"),
                {"tables": self._tables, "min_changes": self._min_changes, "share": self._share}).scalars())
            connection.rollback()
            for table in stale:
                connection.exec_driver_sql(f'ANALYZE "{table}"')  # names come from pg_stat_user_tables
                connection.commit()
        return stale


    def keep_fresh(self, stop: threading.Event) -> None:
        """Refresh until `stop` is set; a database outage only postpones it."""
        while not stop.wait(self._every_s):
            try:
                analyzed = self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again later
                log.warning("planner_statistics.refresh_failed", error=str(exc)[:300])
                continue
            if analyzed:
                log.info("planner_statistics.analyzed", tables=analyzed)


def advisory_key(name: str) -> int:
    """A fixed PostgreSQL advisory-lock number for `name` (a signed 64-bit integer, the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def upgrade_to_head(database_url: str, migrations_dir: Path) -> None:
    """Bring the schema to the newest migration (what `alembic upgrade head` does, without an ini file).

    Replicas that start together all run this first. On PostgreSQL a session advisory lock, one number per
    service, lets one of them migrate while the others wait, then find the schema at head and do nothing
    (without it they race to create alembic_version and the tables, and all but one fail). The lock is held on a
    connection of its own in autocommit, so it keeps no transaction open beside Alembic's; it goes with the
    connection if the process dies. SQLite serialises writers by itself (Alembic's transaction is one).
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    engine = create_engine(database_url)  # creates the SQLite directory if needed
    try:
        if not is_postgres(engine):
            command.upgrade(config, "head")
            return
        key = advisory_key(f"dealgate-migrate:{migrations_dir.resolve().parent.parent.name}")  # the service's name
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
            started = time.monotonic()
            lock.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            log.info("migrate.locked", waited_s=round(time.monotonic() - started, 3))
            try:
                command.upgrade(config, "head")
            finally:
                with contextlib.suppress(sa.exc.DBAPIError):  # a lost connection has released the lock already
                    lock.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()
