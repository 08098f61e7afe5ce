"""Deals' catalog read model is rebuilt, from scratch, by reading the compacted listings topic from the start."""
import uuid

import sqlalchemy as sa

from services.deals import handlers
from services.deals.bootstrap import MIGRATIONS
from services.deals.domain.policy import DealPolicy
from services.deals.storage.tables import catalog_listings
from services.deals.storage.uow import SqlDealsUnitOfWork
from shared.bus import OutgoingMessage
from shared.consumer import EventConsumer
from shared.db import create_engine, upgrade_to_head
from shared.events import CloudEvent
from shared.topics import TopicSpec


def listing_event(listing_id: str, version: int, status: str) -> OutgoingMessage:
    data = {"id": listing_id, "title": f"Suite v{version}", "status": status, "version": version,
            "offers": [{"id": "o1", "name": "Std", "channels": ["reseller"], "regions": ["EMEA"]}]}
    event = CloudEvent(type=f"listing.{'retired' if status == 'retired' else 'updated'}", source="/it",
                       subject=listing_id, data=data)
    return OutgoingMessage(topic="", key=listing_id, value=event.to_json())


def rebuild(database_url: str, kafka_bus, topic: str, expected_events: int) -> dict[str, tuple[int, str]]:
    upgrade_to_head(database_url, MIGRATIONS)
    engine = create_engine(database_url)
    consumer = EventConsumer(subscription=kafka_bus.subscribe([topic], f"it-rebuild-{uuid.uuid4().hex[:6]}"),
                             uow_factory=lambda: SqlDealsUnitOfWork(engine),
                             handlers=handlers.consumer_handlers(DealPolicy()),
                             dlq_publisher_factory=kafka_bus.publisher, service="deals-it")
    consumed = 0
    for _ in range(100):
        consumed += consumer.run_once(timeout_s=0.5)
        if consumed >= expected_events:
            break
    consumer.close()
    with engine.connect() as connection:
        rows = connection.execute(sa.select(catalog_listings.c.id, catalog_listings.c.version,
                                            catalog_listings.c.status)).all()
    engine.dispose()
    return {row.id: (row.version, row.status) for row in rows}


def test_the_read_model_is_rebuilt_from_the_compacted_topic_with_the_latest_version_of_each_listing(
        kafka_bus, postgres_cluster):
    topic = f"it.listings.{uuid.uuid4().hex[:8]}.v1"
    kafka_bus.ensure_topics([TopicSpec(topic, 3, {"cleanup.policy": "compact"}), TopicSpec(topic + ".dlq", 1)])
    retired, live = str(uuid.uuid4()), str(uuid.uuid4())
    history = [listing_event(retired, 1, "published"), listing_event(live, 1, "published"),
               listing_event(retired, 2, "published"), listing_event(live, 2, "published"),
               listing_event(retired, 3, "retired")]
    publisher = kafka_bus.publisher()
    publisher.publish([OutgoingMessage(topic, m.key, m.value) for m in history])
    publisher.close()

    names = [f"it_rebuild_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    first, second = (postgres_cluster.create_database(name) for name in names)
    try:
        rebuilt = rebuild(first, kafka_bus, topic, len(history))
        assert rebuilt == {retired: (3, "retired"), live: (2, "published")}
        assert rebuild(second, kafka_bus, topic, len(history)) == rebuilt, "any new database rebuilds the same model"
    finally:
        for name in names:
            postgres_cluster.drop_database(name)
