"""Integration tests use the real PostgreSQL and Kafka (started by tests/conftest.py when not running)."""
import uuid

import pytest

from shared.bus import KafkaBus
from shared.topics import TopicSpec


@pytest.fixture
def kafka_bus(kafka_bootstrap) -> KafkaBus:
    return KafkaBus(kafka_bootstrap, client_id="it")


@pytest.fixture
def fresh_topic(kafka_bus) -> str:
    """A topic (and its DLQ) of this test's own, so no test sees another's messages."""
    name = f"it.{uuid.uuid4().hex[:10]}.v1"
    kafka_bus.ensure_topics([TopicSpec(name, 3), TopicSpec(name + ".dlq", 1)])
    return name
