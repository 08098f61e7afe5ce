"""Retention prunes processed_events and published outbox rows after DEALGATE_RETENTION_DAYS, idempotency records after
their 24 h, counts every row it deletes in the service's database, and each API's /metrics shows the counts."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from services.deals import handlers
from services.deals.app import create_app
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.limits import DealLimits
from services.deals.settings import DealsSettings
from services.deals.storage import tables
from shared.bus import InMemoryBus
from shared.clock import utcnow
from shared.config import ConfigError
from shared.db import upgrade_to_head
from shared.relay import OutboxRelay
from shared.retention import DAY_S, Retention

NOW = utcnow()


@pytest.fixture
def deals(tmp_path):
    settings = DealsSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)})
    settings = dataclasses.replace(settings, relay_doorbell=None)
    upgrade_to_head(settings.database_url, MIGRATIONS)
    service = bootstrap(settings, bus=InMemoryBus())
    yield service
    service.engine.dispose()


def _inbox_rows(engine, *ages: dt.timedelta) -> None:
    with engine.begin() as connection:
        connection.execute(tables.processed_events.insert(), [
            {"event_id": str(uuid.uuid4()), "topic": "t", "event_type": "x.y", "processed_at": NOW - age}
            for age in ages])


def _outbox_rows(engine, *published_ages: dt.timedelta | None) -> None:
    with engine.begin() as connection:
        connection.execute(tables.outbox.insert(), [
            {"event_id": str(uuid.uuid4()), "topic": "t", "message_key": "k", "event_type": "x.y", "payload": "{}",
             "created_at": NOW - dt.timedelta(days=30), "published_at": None if age is None else NOW - age}
            for age in published_ages])


def _count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _pruned(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(tables.retention_pruned.c.table_name,
                                                 tables.retention_pruned.c.pruned)).all())


def test_the_inbox_keeps_its_days_and_counts_what_it_pruned(deals):
    _inbox_rows(deals.engine, dt.timedelta(days=8), dt.timedelta(days=7, minutes=1), dt.timedelta(days=6),
                dt.timedelta(minutes=5))
    retention = Retention(deals.engine, tables.processed_events, tables.processed_events.c.processed_at,
                          keep_s=7 * DAY_S)
    assert retention.prune() == 2
    assert _count(deals.engine, tables.processed_events) == 2
    assert retention.prune() == 0
    assert _pruned(deals.engine)["processed_events"] == 2


def test_the_inbox_is_pruned_in_batches_in_the_background_until_stopped(deals, monkeypatch):
    monkeypatch.setattr("shared.retention.BATCH_SIZE", 3)
    _inbox_rows(deals.engine, *[dt.timedelta(days=9)] * 7)
    stop = threading.Event()
    worker = threading.Thread(target=Retention(deals.engine, tables.processed_events,
                                               tables.processed_events.c.processed_at, keep_s=DAY_S,
                                               every_s=0.05).keep_pruning, args=(stop,))
    worker.start()
    deadline = time.monotonic() + 10
    while _count(deals.engine, tables.processed_events) and time.monotonic() < deadline:
        time.sleep(0.02)
    _inbox_rows(deals.engine, dt.timedelta(days=2))
    while _count(deals.engine, tables.processed_events) and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert _pruned(deals.engine)["processed_events"] == 8


def test_the_relay_prunes_published_rows_past_retention_and_never_unpublished_ones(deals):
    _outbox_rows(deals.engine, dt.timedelta(days=8), dt.timedelta(days=2), None)
    relay = OutboxRelay(deals.engine, tables.outbox, InMemoryBus().publisher, retention_s=7 * DAY_S)
    assert relay.prune() == 1
    assert _count(deals.engine, tables.outbox) == 2
    assert OutboxRelay(deals.engine, tables.outbox, InMemoryBus().publisher, retention_s=DAY_S).prune() == 1
    assert _count(deals.engine, tables.outbox) == 1, "the unpublished row stays, however old"
    assert _pruned(deals.engine)["outbox"] == 2


def test_idempotency_records_keep_their_24_hours_and_are_counted(deals):
    with deals.engine.begin() as connection:
        connection.execute(tables.idempotency_records.insert(), [
            {"partner_id": "p", "key": key, "request_hash": "h", "state": "done", "created_at": NOW - age}
            for key, age in (("old", dt.timedelta(hours=25)), ("fresh", dt.timedelta(hours=23)))])
    handlers.prune_bookkeeping(uow_factory=deals.uow_factory, limits=DealLimits(), now=NOW)
    assert _count(deals.engine, tables.idempotency_records) == 1
    assert _pruned(deals.engine)["idempotency_records"] == 1


def test_the_api_metrics_show_the_pruned_counts(deals):
    _inbox_rows(deals.engine, dt.timedelta(days=30), dt.timedelta(days=30), dt.timedelta(days=30))
    Retention(deals.engine, tables.processed_events, tables.processed_events.c.processed_at, keep_s=DAY_S).prune()
    client = create_app({"SETTINGS": deals.settings}, deals=deals).test_client()
    text = client.get("/metrics").text
    counts = dict(re.findall(r'dealgate_retention_pruned_total\{service="deals",table="(\w+)"\} (\S+)', text))
    assert counts == {"idempotency_records": "0.0", "outbox": "0.0", "processed_events": "3.0"}
    assert 'dealgate_retention_last_pruned_timestamp_seconds{service="deals",table="processed_events"}' in text


def test_the_retention_setting_is_read_and_checked():
    assert DealsSettings.from_env(env={}).retention_days == 7.0
    settings = DealsSettings.from_env(env={"DEALGATE_RETENTION_DAYS": "0.5", "DEALGATE_RETENTION_INTERVAL_S": "30"})
    assert (settings.retention_days, settings.retention_interval_s) == (0.5, 30.0)
    with pytest.raises(ConfigError, match="DEALGATE_RETENTION_DAYS"):
        DealsSettings.from_env(env={"DEALGATE_RETENTION_DAYS": "a week"})
