"""Retention on both stores: two consumer processes pruning the inbox side by side delete each row once and count it
once (batches, each with its count in one transaction), and leave the rows still within retention."""
from __future__ import annotations

import datetime as dt
import threading
import uuid

import sqlalchemy as sa

from services.conflict.bootstrap import MIGRATIONS
from services.conflict.storage import tables
from shared.clock import utcnow
from shared.db import create_engine, upgrade_to_head
from shared.retention import DAY_S, Retention, prune_older_than


def test_two_pruners_side_by_side_delete_and_count_each_old_row_once(database_url):
    upgrade_to_head(database_url, MIGRATIONS)
    engine = create_engine(database_url, pool_size=4)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(tables.processed_events.insert(), [
            {"event_id": str(uuid.uuid4()), "topic": "t", "event_type": "x.y",
             "processed_at": now - dt.timedelta(days=8 if index < 1000 else 1)} for index in range(1010)])
    pruned: list[int] = []

    def prune() -> None:
        pruned.append(prune_older_than(engine, tables.processed_events, tables.processed_events.c.processed_at,
                                       now - dt.timedelta(seconds=7 * DAY_S), batch_size=70))

    workers = [threading.Thread(target=prune) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sum(pruned) == 1000
    with engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(tables.processed_events)).scalar_one()
        counted = connection.execute(sa.select(tables.retention_pruned.c.pruned)
                                     .where(tables.retention_pruned.c.table_name == "processed_events")).scalar_one()
    assert (left, counted) == (10, 1000)
    assert Retention(engine, tables.processed_events, tables.processed_events.c.processed_at,
                     keep_s=7 * DAY_S).prune() == 0
    engine.dispose()
