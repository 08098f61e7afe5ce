"""Pooled PostgreSQL connections: pinged only after sitting idle, and a dead one never costs more than one error."""
import time

import pytest
import sqlalchemy as sa

from shared.db import create_engine


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(postgres_url: str, pid: int) -> None:
    killer = create_engine(postgres_url)
    with killer.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        connection.commit()
    killer.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_use(postgres_url):
    engine = create_engine(postgres_url, pool_size=1, ping_after_idle_s=0.05)
    dead = _backend_pid(engine)
    _terminate(postgres_url, dead)
    time.sleep(0.1)  # idle longer than the window: the checkout pings, the ping fails, the pool reconnects
    assert _backend_pid(engine) != dead
    engine.dispose()


def test_a_connection_killed_within_the_window_fails_once_and_the_pool_recovers(postgres_url):
    engine = create_engine(postgres_url, pool_size=2, ping_after_idle_s=60)
    dead = _backend_pid(engine)
    _terminate(postgres_url, dead)
    # No ping within the window (a ping would have replaced it): the one error a caller sees, and retries.
    with pytest.raises(sa.exc.OperationalError):
        _backend_pid(engine)
    assert _backend_pid(engine) != dead
    engine.dispose()
