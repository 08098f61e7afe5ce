import contextlib
import threading
import time

from shared.bus import InMemoryBus, OutgoingMessage
from shared.consumer import MAX_ATTEMPTS, EventConsumer
from shared.events import CloudEvent
from tests.unit.shared.messaging_fixtures import ExampleUnitOfWork, effect_count, make_engine, record_effect


def _consumer(bus, engine, handlers, group="g"):
    return EventConsumer(subscription=bus.subscribe(["topic.a"], group), uow_factory=lambda: ExampleUnitOfWork(engine),
                         handlers=handlers, dlq_publisher_factory=bus.publisher, service="test",
                         retry_backoff_s=0)


def _send(bus, event: CloudEvent | bytes, key="k"):
    value = event.to_json() if isinstance(event, CloudEvent) else event
    bus.publisher().publish([OutgoingMessage("topic.a", key, value)])


def test_a_redelivered_event_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    event = CloudEvent(type="thing.happened", source="/t", subject="s-1", data={})
    _send(bus, event)
    _send(bus, event)  # at-least-once delivery: the same event twice
    consumer = _consumer(bus, engine, {"thing.happened": record_effect})
    assert consumer.run_once() == 2
    # and a consumer that lost its offset commit sees the whole log again
    again = _consumer(bus, engine, {"thing.happened": record_effect}, group="other-group")
    again.run_once()
    assert effect_count(engine, "s-1") == 1


def test_a_poison_message_goes_to_the_dlq_after_three_attempts_and_the_consumer_moves_on(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    attempts = []

    def explode(event, *, uow):
        attempts.append(event.id)
        record_effect(event, uow=uow)
        raise RuntimeError("cannot handle this one")

    _send(bus, b"{not a cloud event")
    poison = CloudEvent(type="thing.exploded", source="/t", subject="bad", data={})
    _send(bus, poison)
    _send(bus, CloudEvent(type="thing.happened", source="/t", subject="good", data={}))
    consumer = _consumer(bus, engine, {"thing.happened": record_effect, "thing.exploded": explode})
    consumer.run_once()

    dead = bus.messages("topic.a.dlq")
    assert [m.value for m in dead] == [b"{not a cloud event", poison.to_json()]
    assert "not JSON" in dead[0].header("dlq-error")
    assert "cannot handle this one" in dead[1].header("dlq-error")
    assert dead[1].header("dlq-attempts") == str(MAX_ATTEMPTS)
    assert len(attempts) == MAX_ATTEMPTS
    assert effect_count(engine, "bad") == 0, "a failed attempt's effects roll back"
    assert effect_count(engine, "good") == 1
    assert consumer.run_once() == 0, "every offset was committed"


def test_when_even_the_dlq_is_down_the_offset_stays_and_the_message_comes_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    _send(bus, b"garbage")
    consumer = _consumer(bus, engine, {})
    bus.fail_publishes = 1
    with contextlib.suppress(Exception):
        consumer.run_once()
    assert bus.messages("topic.a.dlq") == []
    consumer.run_once()
    assert len(bus.messages("topic.a.dlq")) == 1


def test_a_database_outage_is_not_mistaken_for_a_poison_message(tmp_path):
    import pytest
    import sqlalchemy as sa

    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    outage = {"left": 5}

    def flaky_database(event, *, uow):
        if outage["left"]:
            outage["left"] -= 1
            raise sa.exc.OperationalError("INSERT ...", {}, Exception("server closed the connection"))
        record_effect(event, uow=uow)

    _send(bus, CloudEvent(type="thing.happened", source="/t", subject="survives", data={}))
    consumer = _consumer(bus, engine, {"thing.happened": flaky_database})
    for _ in range(5):
        with pytest.raises(sa.exc.OperationalError):
            consumer.run_once()
    consumer.run_once()
    assert bus.messages("topic.a.dlq") == []
    assert effect_count(engine, "survives") == 1


def test_a_clean_batch_commits_once_and_a_bad_one_falls_back_to_one_by_one(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    commits = []

    class CountingUnitOfWork(ExampleUnitOfWork):
        def commit(self):
            commits.append(1)
            super().commit()

    def explode_on_bad(event, *, uow):
        record_effect(event, uow=uow)
        if event.subject == "bad":
            raise ValueError("cannot apply")

    consumer = EventConsumer(subscription=bus.subscribe(["topic.a"], "g"),
                             uow_factory=lambda: CountingUnitOfWork(engine),
                             handlers={"thing.happened": explode_on_bad}, dlq_publisher_factory=bus.publisher,
                             service="test", retry_backoff_s=0)
    for index in range(10):
        _send(bus, CloudEvent(type="thing.happened", source="/t", subject=f"ok-{index}", data={}))
    consumer.run_once()
    assert len(commits) == 1 and effect_count(engine) == 10

    commits.clear()
    _send(bus, CloudEvent(type="thing.happened", source="/t", subject="fine", data={}))
    _send(bus, CloudEvent(type="thing.happened", source="/t", subject="bad", data={}))
    consumer.run_once()
    assert effect_count(engine, "fine") == 1 and effect_count(engine, "bad") == 0
    assert len(bus.messages("topic.a.dlq")) == 1, "the bad one alone is dead-lettered"


def test_before_batch_sees_the_new_events_of_a_batch_in_its_transaction_before_any_handler(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    steps: list[tuple[str, object]] = []
    already = CloudEvent(type="thing.happened", source="/t", subject="old", data={})
    _send(bus, already)
    _consumer(bus, engine, {"thing.happened": record_effect}).run_once()

    def prepare(events, uow):
        steps.append(("prepare", [e.subject for e in events], id(uow)))

    def handle(event, *, uow):
        steps.append(("handle", event.subject, id(uow)))
        record_effect(event, uow=uow)

    consumer = EventConsumer(subscription=bus.subscribe(["topic.a"], "g2"),
                             uow_factory=lambda: ExampleUnitOfWork(engine), handlers={"thing.happened": handle},
                             dlq_publisher_factory=bus.publisher, service="test", retry_backoff_s=0,
                             before_batch=prepare)
    for subject in ("a", "b"):
        _send(bus, CloudEvent(type="thing.happened", source="/t", subject=subject, data={}))
    consumer.run_once()
    assert [step[:2] for step in steps] == [("prepare", ["a", "b"]), ("handle", "a"), ("handle", "b")], \
        "the event this inbox already holds is left out, and the preparation comes first"
    assert len({step[2] for step in steps}) == 1, "one unit of work: the preparation's locks last until the commit"


def test_a_poll_hands_messages_over_in_the_order_they_arrived_across_partitions():
    from shared.bus import Message, in_arrival_order

    bus = InMemoryBus()
    keys = [f"deal-{n}" for n in range(40)]  # spread over the topic's partitions by their hash
    for key in keys:
        bus.publisher().publish([OutgoingMessage("topic.a", key, key.encode())])
    polled = bus.subscribe(["topic.a"], "g").poll()
    assert len({m.partition for m in polled}) > 1, "the keys landed in several partitions"
    assert [m.key for m in polled] == keys, "judged first come, first served, not partition by partition"

    # Each partition keeps its own order even where timestamps disagree (a republished message, say).
    partition_0 = [Message("t", 0, 0, "a", b"", [], 5), Message("t", 0, 1, "b", b"", [], 3)]
    partition_1 = [Message("t", 1, 0, "c", b"", [], 4)]
    assert [m.key for m in in_arrival_order([partition_0, partition_1])] == ["c", "a", "b"]


class _CountingSubscription:
    """The in-memory subscription, counting the polls that found messages."""

    def __init__(self, inner):
        self._inner = inner
        self.busy_polls: list[int] = []

    def poll(self, timeout_s: float):
        messages = self._inner.poll(timeout_s)
        if messages:
            self.busy_polls.append(len(messages))
        return messages

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_while_events_keep_coming_a_pass_starts_at_most_every_gather_interval(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    bus = InMemoryBus()
    subscription = _CountingSubscription(bus.subscribe(["topic.a"], "g"))
    consumer = EventConsumer(subscription=subscription, uow_factory=lambda: ExampleUnitOfWork(engine),
                             handlers={"thing.happened": record_effect}, dlq_publisher_factory=bus.publisher,
                             service="test", gather_s=0.2)
    stop = threading.Event()
    running = threading.Thread(target=consumer.run, args=(stop,))
    running.start()
    for index in range(100):  # an event every 6 ms for 0.6 s
        _send(bus, CloudEvent(type="thing.happened", source="/t", subject=f"s-{index}", data={}))
        time.sleep(0.006)
    time.sleep(0.3)
    stop.set()
    running.join(5)
    assert effect_count(engine) == 100  # nothing waits forever for its pass
    # Without the interval the consumer would take them one or two at a time; with it, a pass every 0.2 s at most.
    assert len(subscription.busy_polls) <= 6, subscription.busy_polls
    assert max(subscription.busy_polls) >= 10
