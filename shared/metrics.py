"""Prometheus metrics; under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR and /metrics sums them."""
from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector


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
