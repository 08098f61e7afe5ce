"""The outbox relay, the idempotent consumer and the DLQ against real PostgreSQL and Kafka."""
import json

from shared.consumer import EventConsumer
from shared.events import CloudEvent
from shared.outbox import pending_count
from shared.relay import OutboxRelay
from tests.kafka_helpers import read_all
from tests.unit.shared.messaging_fixtures import ExampleUnitOfWork, effect_count, make_engine, outbox, record_effect


def _commit_events(engine, topic, count, prefix="s"):
    ids = []
    for index in range(count):
        with ExampleUnitOfWork(engine) as uow:
            event = CloudEvent(type="thing.happened", source="/it", subject=f"{prefix}-{index}", data={"i": index})
            uow.record(topic, event)
            uow.commit()
            ids.append(event.id)
    return ids


def test_relay_publishes_every_committed_event_to_kafka_with_key_and_correlation(postgres_url, kafka_bus,
                                                                                 fresh_topic, kafka_bootstrap):
    engine = make_engine(postgres_url)
    ids = _commit_events(engine, fresh_topic, 50)
    relay = OutboxRelay(engine, outbox, kafka_bus.publisher)
    assert relay.drain() == 50
    relay.close()
    assert pending_count(engine, outbox) == 0
    records = read_all(kafka_bootstrap, fresh_topic, 50)
    assert sorted(json.loads(r.value)["id"] for r in records) == sorted(ids)
    assert all(r.key.decode() == json.loads(r.value)["subject"] for r in records)


def test_consumer_applies_each_event_once_even_when_kafka_redelivers(postgres_url, kafka_bus, fresh_topic):
    producer_db = make_engine(postgres_url)
    _commit_events(producer_db, fresh_topic, 20)
    relay = OutboxRelay(producer_db, outbox, kafka_bus.publisher)
    relay.drain()
    relay.publish_pending()
    # Publish the same rows again, as a relay that crashed before marking them would.
    with producer_db.begin() as connection:
        connection.execute(outbox.update().values(published_at=None))
    relay.drain()
    relay.close()

    consumer_db = producer_db  # the consumer's inbox and effects live beside the producer's tables here
    group = f"g-{fresh_topic}"
    consumer = EventConsumer(subscription=kafka_bus.subscribe([fresh_topic], group),
                             uow_factory=lambda: ExampleUnitOfWork(consumer_db),
                             handlers={"thing.happened": record_effect}, dlq_publisher_factory=kafka_bus.publisher,
                             service="it")
    seen = 0
    for _ in range(40):
        seen += consumer.run_once(0.5)
        if seen >= 40:
            break
    consumer.close()
    assert seen == 40, "Kafka delivered every copy"
    assert effect_count(consumer_db) == 20, "but each event took effect once"

    # A new consumer in the same group starts after the committed offsets: nothing is redelivered.
    again = kafka_bus.subscribe([fresh_topic], group)
    assert again.poll(2.0) == []
    again.close()


def test_poison_messages_land_in_the_dlq_with_the_error_and_the_consumer_moves_on(postgres_url, kafka_bus,
                                                                                   fresh_topic, kafka_bootstrap):
    from shared.bus import OutgoingMessage

    engine = make_engine(postgres_url)
    publisher = kafka_bus.publisher()
    good = CloudEvent(type="thing.happened", source="/it", subject="good", data={})
    publisher.publish([OutgoingMessage(fresh_topic, "k", b"\xff\xfe not json"),
                       OutgoingMessage(fresh_topic, "k", good.to_json())])
    publisher.close()
    consumer = EventConsumer(subscription=kafka_bus.subscribe([fresh_topic], f"g-{fresh_topic}"),
                             uow_factory=lambda: ExampleUnitOfWork(engine), handlers={"thing.happened": record_effect},
                             dlq_publisher_factory=kafka_bus.publisher, service="it", retry_backoff_s=0)
    seen = 0
    for _ in range(20):
        seen += consumer.run_once(0.5)
        if seen >= 2:
            break
    consumer.close()
    dead = read_all(kafka_bootstrap, fresh_topic + ".dlq", 1)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert b"not JSON" in headers["dlq-error"] and headers["dlq-attempts"] == b"3"
    assert headers["dlq-original-topic"] == fresh_topic.encode()
    assert effect_count(engine, "good") == 1
