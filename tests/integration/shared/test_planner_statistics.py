"""PlannerStatistics: tables that grew from empty get analyzed (and their cached plans replanned) at once."""
import sqlalchemy as sa

from shared.db import PlannerStatistics, create_engine


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _table_with_rows(engine, rows: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS growing (id integer PRIMARY KEY, key text)")
        start = connection.execute(sa.text("SELECT count(*) FROM growing")).scalar_one()
        connection.execute(sa.text("INSERT INTO growing SELECT g, 'k' || g"
                                   " FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g"),
                           {"a": start + 1, "b": start + rows})
    with engine.connect() as connection:  # backends report their counts lazily (up to a second later)
        connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        connection.commit()
        connection.exec_driver_sql("SELECT 1")
        connection.commit()


def _estimated_rows(engine) -> float:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'growing'")).scalar_one()


def test_a_table_that_grew_is_analyzed_once_and_then_left_alone(postgres_url):
    engine = create_engine(postgres_url)
    clock = Clock()
    statistics = PlannerStatistics(engine, ["growing", "absent"], every_s=5.0, clock=clock)
    _table_with_rows(engine, 3000)
    assert _estimated_rows(engine) <= 0, "never analyzed yet: the planner does not know the table's size"

    assert statistics.refresh() == ["growing"]
    assert _estimated_rows(engine) == 3000

    _table_with_rows(engine, 3000)
    assert statistics.refresh() == [], "checks at most every 5 seconds"
    clock.now += 5
    assert statistics.refresh() == ["growing"], "it doubled since the last ANALYZE"
    clock.now += 5
    _table_with_rows(engine, 10)
    assert statistics.refresh() == [], "a few rows more are autovacuum's business"
    engine.dispose()


def test_on_sqlite_it_does_nothing(sqlite_url):
    engine = create_engine(sqlite_url)
    assert PlannerStatistics(engine, ["anything"]).refresh() == []


def test_keep_fresh_analyzes_in_the_background_until_stopped(postgres_url):
    import threading
    import time

    engine = create_engine(postgres_url)
    _table_with_rows(engine, 2000)
    stop = threading.Event()
    worker = threading.Thread(target=PlannerStatistics(engine, ["growing"], every_s=0.05).keep_fresh, args=(stop,))
    worker.start()
    deadline = time.monotonic() + 10
    while _estimated_rows(engine) != 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(timeout=5)
    assert _estimated_rows(engine) == 2000 and not worker.is_alive()
    engine.dispose()
