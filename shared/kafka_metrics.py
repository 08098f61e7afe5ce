"""Kafka-side gauges for /metrics: whether the broker answers, how many messages sit in each DLQ, and how far each
consumer group lags."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from shared.bus import PLAINTEXT, KafkaSecurity
from shared.topics import CONSUMED_BY, dlq_name

log = structlog.get_logger(__name__)
# A DLQ for every topic some service consumes (the issue-18 topics included).
DLQ_TOPICS = tuple(dlq_name(t) for t in dict.fromkeys(t for topics in CONSUMED_BY.values() for t in topics))


class KafkaDepthCollector:
    """A Prometheus collector that asks the broker on scrape (cached for a few seconds, never blocking long).

    It is created per process on first scrape, so no Kafka client exists at import or before gunicorn forks.
    """

    def __init__(self, bootstrap_servers: str, *, group: str | None, consumed_topics: tuple[str, ...],
                 cache_s: float = 5.0, security: KafkaSecurity = PLAINTEXT):
        self._bootstrap = bootstrap_servers
        self._security = security
        self._group = group
        self._consumed = consumed_topics
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._cached_at = 0.0
        self._cached: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self._up = False

    def _measure(self) -> tuple[dict[str, int], dict[str, int]]:
        from kafka import KafkaConsumer, TopicPartition

        from shared.http import kafka_check

        kafka_check(self._bootstrap)()  # fail fast while the broker is away; a scrape must not hang
        # A consumer that never subscribes never joins the group; it only reads offsets, including the group's.
        consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, group_id=self._group, enable_auto_commit=False,
                                 request_timeout_ms=3000, client_id="dealgate-metrics",
                                 **self._security.client_options())
        try:
            depth: dict[str, int] = {}
            for topic in DLQ_TOPICS:
                partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or ())]
                if partitions:
                    ends, starts = consumer.end_offsets(partitions), consumer.beginning_offsets(partitions)
                    depth[topic] = sum(ends[p] - starts[p] for p in partitions)
            lag: dict[str, int] = {}
            if self._group:
                for topic in self._consumed:
                    partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or ())]
                    if partitions:
                        ends = consumer.end_offsets(partitions)
                        lag[topic] = sum(max(0, ends[p] - (consumer.committed(p) or 0)) for p in partitions)
            return depth, lag
        finally:
            consumer.close(autocommit=False)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() - self._cached_at > self._cache_s:
                try:
                    self._cached, self._up = self._measure(), True
                except Exception as exc:  # noqa: BLE001 - a scrape during a broker outage just omits these gauges
                    log.info("metrics.kafka_unavailable", error=str(exc))
                    self._cached, self._up = ({}, {}), False
                self._cached_at = time.monotonic()
            depth, lag, up = *self._cached, self._up
        # Kafka's state is reported here and in /healthz, never in /readyz (the outbox takes writes while it is away).
        yield GaugeMetricFamily("dealgate_kafka_up", "1 when the broker answered this service's last measurement",
                                value=1 if up else 0)
        dlq = GaugeMetricFamily("dealgate_dlq_depth", "Messages retained in a dead-letter topic", labels=["topic"])
        for topic, value in sorted(depth.items()):
            dlq.add_metric([topic], value)
        yield dlq
        consumer_lag = GaugeMetricFamily("dealgate_consumer_lag", "Messages not yet consumed by this service",
                                         labels=["group", "topic"])
        for topic, value in sorted(lag.items()):
            consumer_lag.add_metric([self._group or "", topic], value)
        yield consumer_lag


def depth_collectors(bootstrap_servers: str, *, group: str | None, consumed_topics: tuple[str, ...] = (),
                     security: KafkaSecurity = PLAINTEXT) -> Callable[[], list[KafkaDepthCollector]]:
    """For create_base_app(metrics_collectors=...): builds the collector on first scrape, in the worker process."""
    made: list[KafkaDepthCollector] = []

    def collectors() -> list[KafkaDepthCollector]:
        if not made:
            made.append(KafkaDepthCollector(bootstrap_servers, group=group, consumed_topics=consumed_topics,
                                            security=security))
        return made
    return collectors
