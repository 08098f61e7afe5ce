"""Prometheus metrics; under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and /metrics sums them."""
from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from shared.outbox import OutboxState, outbox_state

log = structlog.get_logger(__name__)


@functools.cache
def http_metrics() -> tuple[Counter, Histogram]:
    return (
        Counter("dealgate_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"]),
        Histogram("dealgate_http_request_seconds", "HTTP request latency", ["service", "method", "endpoint"],
                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)),
    )


@functools.cache
def worker_metrics() -> dict[str, Counter]:
    return {
        "published": Counter("dealgate_outbox_published_total", "Events the relay published", ["service"]),
        "consumed": Counter("dealgate_events_consumed_total", "Events consumed",
                            ["service", "topic", "type", "outcome"]),
        "dead_lettered": Counter("dealgate_events_dead_lettered_total", "Events sent to a DLQ",
                                 ["service", "topic"]),
    }


@functools.cache
def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
    kwargs: dict[str, Any] = {"multiprocess_mode": "livemax"} if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else {}
    return Gauge(name, documentation, list(labels), **kwargs)


def render_latest(extra_collectors: Iterable[Collector] = ()) -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated upstream
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    if extra_collectors:
        extra = CollectorRegistry(auto_describe=False)
        for collector in extra_collectors:
            extra.register(collector)
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST


class OutboxCollector:
    """The outbox as gauges, read from the database when scraped (cached a few seconds, so scrapes stay cheap).

    Every API process exports the same service-wide figures (the database is shared by all relays): how many
    rows wait to be published, how long the oldest has waited, and how many the relays gave up on.
    """

    def __init__(self, engine: Engine, service: str, *, cache_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self._engine = engine
        self._service = service
        self._cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._measured_at: float | None = None
        self._state: OutboxState | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._measured_at is None or self._clock() - self._measured_at > self._cache_s:
                try:
                    self._state = outbox_state(self._engine)
                except Exception as exc:  # noqa: BLE001 - a scrape while the database is away omits these gauges
                    log.info("metrics.outbox_unavailable", error=str(exc)[:200])
                    self._state = None
                self._measured_at = self._clock()
            state = self._state
        if state is None:
            return
        for name, documentation, value in (
                ("dealgate_outbox_backlog", "Outbox rows committed and not yet published", state.backlog),
                ("dealgate_outbox_oldest_pending_age_seconds", "How long the oldest unpublished outbox row has waited",
                 state.oldest_pending_age_s),
                ("dealgate_outbox_dead", "Outbox rows the relays gave up on (in outbox_dead)", state.dead)):
            gauge = GaugeMetricFamily(name, documentation, labels=["service"])
            gauge.add_metric([self._service], value)
            yield gauge
