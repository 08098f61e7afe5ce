import contextlib
import threading
import time

from shared.bus import InMemoryBus
from shared.doorbell import ThreadDoorbell
from shared.events import CloudEvent
from shared.outbox import pending_count
from shared.relay import OutboxRelay
from tests.unit.shared.messaging_fixtures import ExampleUnitOfWork, make_engine, outbox


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
