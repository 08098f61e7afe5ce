"""Engines for SQLite (WAL, the embedded default) and PostgreSQL, and Alembic upgrades run from code."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine


def normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the URLs people usually paste.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(url: str, *, pool_size: int = 5) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _use_wal_and_immediate_transactions(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=10, pool_recycle=1800)


def _use_wal_and_immediate_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
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
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def upgrade_to_head(database_url: str, migrations_dir: Path) -> None:
    """Bring the schema to the newest migration (what `alembic upgrade head` does, without an ini file)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    create_engine(database_url).dispose()  # creates the SQLite directory if needed
    command.upgrade(config, "head")
