"""Fixtures for the real dependencies: the suite starts PostgreSQL and Kafka itself when they are not running."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from deploy.kafka import KafkaBroker, port_open
from deploy.postgres import LocalPostgres

# Several checkouts (or engineers) can run the suite side by side with distinct offsets and directories.
PORT_OFFSET = int(os.environ.get("DEALGATE_TEST_PORT_OFFSET", "0"))
TEST_KAFKA_PORT = 19092 + PORT_OFFSET
TEST_PG_PORT = 55433 + PORT_OFFSET
RUN_DIR = Path(os.environ.get("DEALGATE_TEST_DIR", f"/tmp/dealgate-test-{PORT_OFFSET}"))


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """A real Kafka broker for the whole session (reused if one already answers on the test port)."""
    if port_open("127.0.0.1", TEST_KAFKA_PORT):
        yield f"127.0.0.1:{TEST_KAFKA_PORT}"
        return
    broker = KafkaBroker(RUN_DIR / f"kafka-{uuid.uuid4().hex[:6]}", port=TEST_KAFKA_PORT)
    broker.start()
    yield broker.bootstrap_servers
    broker.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> LocalPostgres:
    cluster = LocalPostgres(RUN_DIR / "postgres", port=TEST_PG_PORT)
    was_running = cluster.is_running()
    cluster.start()
    yield cluster
    if not was_running:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster) -> str:
    """A fresh, empty database for one test."""
    name = "t_" + uuid.uuid4().hex[:12]
    url = postgres_cluster.create_database(name)
    yield url
    postgres_cluster.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Run a test on both stores: SQLite (the embedded default) and PostgreSQL (production)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")
