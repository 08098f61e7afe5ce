"""Relay replicas and refused rows against real PostgreSQL and Kafka (issue 12, "every process replicated")."""
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from deploy.stack import REPO
from shared.bus import KafkaBus
from shared.events import CloudEvent
from shared.outbox import outbox_state, pending_count
from shared.relay import OutboxRelay
from shared.topics import TopicSpec
from tests.kafka_helpers import read_all
from tests.unit.shared.messaging_fixtures import ExampleUnitOfWork, make_engine, outbox, outbox_dead

KEYS, PER_KEY, PER_COMMIT = 40, 50, 10


class _Poll:
    def __init__(self, stop: threading.Event):
        self._stop = stop

    def wait(self, timeout_s: float) -> None:
        self._stop.wait(timeout_s)


def _event(key: str, sequence: int, **data) -> CloudEvent:
    return CloudEvent(type="thing.happened", source="/it", subject=key, data={"seq": sequence, **data})


def test_two_relays_at_once_publish_every_row_once_in_commit_order(postgres_url, kafka_bus, fresh_topic,
                                                                   kafka_bootstrap):
    engine = make_engine(postgres_url)
    stop = threading.Event()
    published = {"a": 0, "b": 0}
    relays = {name: OutboxRelay(make_engine(postgres_url), outbox, kafka_bus.publisher, batch_size=25,
                                poll_interval_s=0.01, on_published=lambda n, name=name: published.__setitem__(
                                    name, published[name] + n)) for name in published}
    threads = [threading.Thread(target=relay.run, args=(_Poll(stop), stop), daemon=True) for relay in relays.values()]
    for thread in threads:
        thread.start()
    try:
        # Written while both relays run: every commit holds PER_COMMIT events of one key, keys interleaved.
        for sequence in range(0, PER_KEY, PER_COMMIT):
            for k in range(KEYS):
                with ExampleUnitOfWork(engine) as uow:
                    for n in range(sequence, sequence + PER_COMMIT):
                        uow.record(fresh_topic, _event(f"key-{k}", n))
                    uow.commit()
        deadline = time.monotonic() + 120
        while pending_count(engine, outbox) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pending_count(engine, outbox) == 0
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        for relay in relays.values():
            relay.close()

    total = KEYS * PER_KEY
    records = read_all(kafka_bootstrap, fresh_topic, total)
    copies = Counter(json.loads(r.value)["id"] for r in records)
    duplicates = sum(n - 1 for n in copies.values())
    print(f"two relays: {total} rows, {len(records)} messages, {duplicates} duplicates; batches by relay: "
          f"{published}")
    assert len(copies) == total and duplicates == 0
    assert published["a"] > 0 and published["b"] > 0, "both relays took turns"
    assert published["a"] + published["b"] == total
    # Per key, the partition holds the events in commit order (each key is on one partition).
    by_partition: dict[int, list] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_partition.setdefault(record.partition, []).append(json.loads(record.value))
    for documents in by_partition.values():
        seen: dict[str, int] = {}
        for document in documents:
            assert document["data"]["seq"] == seen.get(document["subject"], -1) + 1
            seen[document["subject"]] = document["data"]["seq"]
    # And across keys too: one relay at a time, each batch after the one before, so timestamps follow commit order.
    with engine.connect() as connection:
        commit_order = connection.execute(sa.select(outbox.c.event_id).order_by(outbox.c.id)).scalars().all()
    stamps = {json.loads(r.value)["id"]: r.timestamp for r in records}
    assert [stamps[e] for e in commit_order] == sorted(stamps[e] for e in commit_order)


@pytest.fixture
def small_topic(kafka_bus) -> str:
    """A topic of this test's own whose broker limit is 100 kB (the broker's default would take 8 MiB)."""
    name = f"it.small-{time.monotonic_ns() % 10**9}.v1"
    kafka_bus.ensure_topics([TopicSpec(name, 1, {"max.message.bytes": "100000"})])
    return name


def test_rows_the_broker_refuses_move_to_outbox_dead_with_the_error_and_the_rest_goes_on(postgres_url, kafka_bootstrap,
                                                                                          small_topic):
    engine = make_engine(postgres_url)
    bus = KafkaBus(kafka_bootstrap, client_id="it-dead", max_message_bytes=1024 * 1024)
    assert bus.message_limits([small_topic]) == {small_topic: 100000}
    # small, refused by the broker (200 kB > the topic's 100 kB), small, refused by the producer (2 MB > its 1 MiB)
    sizes = [("ok-0", 10), ("broker-refuses", 200_000), ("ok-1", 10), ("producer-refuses", 2_000_000), ("ok-2", 10)]
    for key, size in sizes:
        with ExampleUnitOfWork(engine) as uow:
            uow.record(small_topic, _event(key, 0, pad="x" * size))
            uow.commit()
    relay = OutboxRelay(engine, outbox, bus.publisher, max_attempts=2)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(_Poll(stop), stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while pending_count(engine, outbox) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)
        relay.close()
    assert pending_count(engine, outbox) == 0
    with engine.connect() as connection:
        dead = {row.message_key: row for row in connection.execute(sa.select(outbox_dead))}
    assert set(dead) == {"broker-refuses", "producer-refuses"}
    assert all(row.attempts == 2 and "MessageSizeTooLarge" in row.error and row.failed_at for row in dead.values())
    assert "max_request_size" in dead["producer-refuses"].error
    assert "max_request_size" not in dead["broker-refuses"].error and "200" in dead["broker-refuses"].error
    assert json.loads(dead["broker-refuses"].payload)["subject"] == "broker-refuses"
    records = read_all(kafka_bootstrap, small_topic, 3)
    assert [r.key.decode() for r in sorted(records, key=lambda r: r.offset)] == ["ok-0", "ok-1", "ok-2"]
    state = outbox_state(engine)
    assert (state.backlog, state.dead) == (0, 2)


def test_a_relay_whose_broker_takes_smaller_messages_than_it_may_send_stops_at_start_up_with_one_line(
        kafka_bootstrap, tmp_path):
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DEALGATE_VAR_DIR": str(tmp_path),
           "CATALOG_RELAY_DOORBELL_PORT": "0", "DEALGATE_KAFKA_MAX_MESSAGE_BYTES": str(64 * 1024 * 1024)}
    done = subprocess.run([sys.executable, "-m", "services.catalog.workers.relay"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("dealgate catalog relay: the broker takes messages of at most ") and \
        "catalog.listings.v1" in last and "DEALGATE_KAFKA_MAX_MESSAGE_BYTES" in last, done.stderr[-2000:]
