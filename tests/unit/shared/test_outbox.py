import contextlib
import datetime as dt
import json
import threading
import time

import pytest
import sqlalchemy as sa

from shared.bus import InMemoryBus, PublishFailed
from shared.clock import utcnow
from shared.doorbell import ThreadDoorbell
from shared.events import CloudEvent
from shared.metrics import OutboxCollector
from shared.outbox import OutboxState, outbox_state, pending_count
from shared.relay import OutboxRelay, RowRefused
from shared.workers import message_limit_problems
from tests.unit.shared.messaging_fixtures import ExampleUnitOfWork, make_engine, outbox, outbox_dead


def _event(subject: str) -> CloudEvent:
    return CloudEvent(type="thing.happened", source="/test", subject=subject, data={"n": subject})


def test_events_enter_the_outbox_only_with_their_commit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    with ExampleUnitOfWork(engine) as uow:
        uow.record("topic.a", _event("rolled-back"))
        uow.rollback()
    with ExampleUnitOfWork(engine) as uow:
        uow.record("topic.a", _event("committed"))
        uow.commit()
    with ExampleUnitOfWork(engine) as uow:
        uow.record("topic.a", _event("never-committed"))  # leaves the block without commit
    assert pending_count(engine, outbox) == 1


def test_relay_publishes_in_order_and_marks_rows_only_after_the_broker_accepted_them(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    for index in range(7):
        with ExampleUnitOfWork(engine) as uow:
            uow.record("topic.a", _event(f"s-{index}"))
            uow.commit()
    relay = OutboxRelay(engine, outbox, bus.publisher, batch_size=3)

    bus.fail_publishes = 1
    with contextlib.suppress(Exception):
        relay.publish_pending()
    assert pending_count(engine, outbox) == 7, "a failed publish must leave every row pending"
    assert bus.messages("topic.a") == []

    assert relay.drain() == 7
    assert pending_count(engine, outbox) == 0
    subjects = sorted((m.partition, m.offset, m.key) for m in bus.messages("topic.a"))
    by_partition: dict[int, list[str]] = {}
    for partition, _, key in subjects:
        by_partition.setdefault(partition, []).append(key)
    for keys in by_partition.values():
        assert keys == sorted(keys, key=lambda k: int(k.split("-")[1])), "per-key order is the commit order"


def test_a_commit_rings_the_doorbell_and_the_relay_publishes_within_milliseconds(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    doorbell = ThreadDoorbell()
    relay = OutboxRelay(engine, outbox, bus.publisher, poll_interval_s=30.0)  # the poll alone would take 30 s
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(doorbell.listener(), stop), daemon=True)
    thread.start()
    time.sleep(0.2)
    started = time.perf_counter()
    with ExampleUnitOfWork(engine, doorbell=doorbell) as uow:
        uow.record("topic.a", _event("ring"))
        uow.commit()
    while not bus.messages("topic.a") and time.perf_counter() - started < 5:
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    stop.set()
    doorbell.ring()
    thread.join(5)
    assert bus.messages("topic.a"), "the doorbell must wake the relay"
    assert elapsed < 1.0


class _CountingPublisher:
    """The in-memory publisher, counting the publish calls (one per relay pass that found rows)."""

    def __init__(self, bus, calls):
        self._inner = bus.publisher()
        self._calls = calls

    def publish(self, messages):
        self._calls.append(len(messages))
        self._inner.publish(messages)

    def close(self):
        self._inner.close()


def test_while_commits_keep_ringing_a_relay_pass_starts_at_most_every_gather_interval(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    doorbell = ThreadDoorbell()
    calls: list[int] = []
    relay = OutboxRelay(engine, outbox, lambda: _CountingPublisher(bus, calls), poll_interval_s=30.0, gather_s=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(doorbell.listener(), stop), daemon=True)
    thread.start()
    time.sleep(0.1)
    for index in range(60):  # a commit (and its ring) every 10 ms for 0.6 s
        with ExampleUnitOfWork(engine, doorbell=doorbell) as uow:
            uow.record("topic.a", _event(f"g-{index}"))
            uow.commit()
        time.sleep(0.01)
    deadline = time.monotonic() + 5
    while len(bus.messages("topic.a")) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    doorbell.ring()
    thread.join(5)
    assert len(bus.messages("topic.a")) == 60
    assert calls[0] == 1, "the first ring after an idle spell is answered at once, alone"
    # Without the interval the relay would publish one or two rows a pass; with it, a pass every 0.2 s at most.
    assert len(calls) <= 6, calls
    assert max(calls) >= 10


def _commit(engine, subjects, topic="topic.a"):
    for subject in subjects:
        with ExampleUnitOfWork(engine) as uow:
            uow.record(topic, _event(subject))
            uow.commit()


def _sent(bus, topic="topic.a"):
    """The keys published, in the order they reached the broker."""
    return [m.key for m in sorted(bus.messages(topic), key=lambda m: m.timestamp_ms)]


def _dead_rows(engine):
    with engine.connect() as connection:
        return connection.execute(sa.select(outbox_dead).order_by(outbox_dead.c.id)).all()


def test_a_row_the_broker_refuses_moves_to_outbox_dead_after_its_attempts_and_the_rows_behind_it_go_on(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus(max_message_bytes=2000)
    _commit(engine, ["s-0", "s-1"])
    with ExampleUnitOfWork(engine) as uow:  # too large for the broker: refused whatever happens
        uow.record("topic.a", CloudEvent(type="thing.happened", source="/test", subject="big", data={"x": "y" * 5000}))
        uow.commit()
    _commit(engine, ["s-3", "s-4"])
    dead: list[int] = []
    relay = OutboxRelay(engine, outbox, bus.publisher, max_attempts=3, on_dead=dead.append)

    for attempt in (1, 2):
        with pytest.raises(RowRefused, match=f"attempt {attempt} of 3"):
            relay.publish_pending()
        # the rows before it went out at the first try; the rows behind it wait for it, so their order holds
        assert _sent(bus) == ["s-0", "s-1"]
    assert relay.drain() == 3  # the third refusal: it moves aside, and the two behind it go out
    assert _sent(bus) == ["s-0", "s-1", "s-3", "s-4"]
    assert pending_count(engine, outbox) == 0 and dead == [1]
    [row] = _dead_rows(engine)
    assert row.message_key == "big" and row.topic == "topic.a" and row.attempts == 3
    assert "MessageSizeTooLarge" in row.error and json.loads(row.payload)["data"]["x"] == "y" * 5000
    assert outbox_state(engine).dead == 1 and outbox_state(engine).backlog == 0


def test_an_outage_counts_no_attempt_against_any_row(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    _commit(engine, ["s-0", "s-1", "s-2"])
    relay = OutboxRelay(engine, outbox, bus.publisher, max_attempts=1)
    bus.fail_publishes = 5
    for _ in range(5):
        with pytest.raises(PublishFailed):
            relay.publish_pending()
    assert relay.drain() == 3
    assert _dead_rows(engine) == [] and len(bus.messages("topic.a")) == 3


def test_a_topic_the_broker_refuses_does_not_hold_up_another_topic_behind_it(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    bus.rejected_topics.add("topic.forbidden")
    _commit(engine, ["f-0"], topic="topic.forbidden")
    _commit(engine, ["s-1", "s-2"])
    relay = OutboxRelay(engine, outbox, bus.publisher, max_attempts=1)
    assert relay.drain() == 3
    assert _sent(bus) == ["s-1", "s-2"]
    assert [row.message_key for row in _dead_rows(engine)] == ["f-0"]


def test_the_outbox_state_says_backlog_oldest_age_and_dead_count(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    assert outbox_state(engine) == OutboxState(backlog=0, oldest_pending_age_s=0.0, dead=0)
    _commit(engine, ["s-0", "s-1"])
    state = outbox_state(engine, now=utcnow() + dt.timedelta(seconds=30))
    assert state.backlog == 2 and 29 < state.oldest_pending_age_s < 40 and state.dead == 0


def test_the_outbox_gauges_come_from_the_database_and_are_cached_between_scrapes(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    now = [100.0]
    collector = OutboxCollector(engine, "example", cache_s=5.0, clock=lambda: now[0])

    def figures():
        return {m.name: m.samples[0].value for m in collector.collect()}

    assert figures() == {"dealgate_outbox_backlog": 0, "dealgate_outbox_oldest_pending_age_seconds": 0.0,
                         "dealgate_outbox_dead": 0}
    _commit(engine, ["s-0"])
    assert figures()["dealgate_outbox_backlog"] == 0, "cached for a few seconds"
    now[0] += 6
    assert figures()["dealgate_outbox_backlog"] == 1


def test_the_relay_start_up_check_names_a_topic_whose_broker_limit_is_below_what_it_may_send():
    bus = InMemoryBus(max_message_bytes=2_000_000)
    assert message_limit_problems(bus, ["topic.a"]) == []
    bus.broker_message_limit = 1_048_588
    [problem] = message_limit_problems(bus, ["topic.a"])
    assert "1048588 bytes on topic.a" in problem and "2000000" in problem
    assert "DEALGATE_KAFKA_MAX_MESSAGE_BYTES" in problem
