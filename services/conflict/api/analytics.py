"""Channel analytics over HTTP (/v1/analytics, for the desk and admins) and as Prometheus gauges (/metrics)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import structlog
from flask import current_app
from flask_smorest import Blueprint
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from services.conflict.analytics import AnalyticsSource, channel_analytics, default_window
from services.conflict.api.schemas import AnalyticsQuerySchema, AnalyticsSchema
from services.conflict.storage.analytics import SqlAnalyticsSource
from shared.auth import roles_required
from shared.http import problems

if TYPE_CHECKING:
    from services.conflict.bootstrap import Conflict

log = structlog.get_logger(__name__)
blp = Blueprint("analytics", __name__, url_prefix="/v1/analytics", description="Channel analytics")


@blp.route("")
@roles_required("desk", "admin")
@blp.arguments(AnalyticsQuerySchema, location="query")
@blp.response(200, AnalyticsSchema)
@problems(403)
def get_analytics(query):
    """Channel analytics over a window (default: the last 90 days), optionally for one region's customers.

    Registrations count by the time conflict recorded them, cases by the time they opened. A channel pair's rate
    is its cases over the registrations of its two channels; time to decision covers the desk's own decisions
    (award, reject_all, dismiss); a case meets its SLA when it is resolved by its due time.
    """
    source = SqlAnalyticsSource(current_app.extensions["dealgate"].engine)
    return channel_analytics(source, start=query["start"], end=query["end"], region=query.get("region"))


class AnalyticsGauges:
    """The last 90 days' analytics as gauges, computed when scraped and kept a few seconds so scrapes stay cheap."""

    def __init__(self, source: AnalyticsSource, *, cache_s: float = 15.0,
                 clock: Callable[[], float] = time.monotonic):
        self._source = source
        self._cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._computed_at: float | None = None
        self._answer: dict[str, Any] | None = None

    @classmethod
    def for_service(cls, conflict: Conflict) -> AnalyticsGauges:
        return cls(SqlAnalyticsSource(conflict.engine))

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._computed_at is None or self._clock() - self._computed_at > self._cache_s:
                start, end = default_window()
                try:
                    self._answer = channel_analytics(self._source, start=start, end=end)
                except Exception as exc:  # noqa: BLE001 - a scrape while the database is away omits these gauges
                    log.info("metrics.analytics_unavailable", error=str(exc)[:200])
                    self._answer = None
                self._computed_at = self._clock()
            answer = self._answer
        if answer is not None:
            yield from _gauges(answer)


def _gauges(answer: dict[str, Any]) -> Iterator[Metric]:
    def family(name: str, documentation: str, label: str, values: dict[str, Any]) -> GaugeMetricFamily:
        gauge = GaugeMetricFamily(name, documentation + " (the last 90 days)", labels=[label] if label else [])
        for key, value in values.items():
            if value is not None:  # an undefined rate is no sample, not a zero
                gauge.add_metric([key] if label else [], value)
        return gauge

    registrations, decisions, sla = answer["registrations"], answer["decisions"], answer["sla"]
    pairs = {"/".join(p["pair"]): p for p in answer["conflicts"]["by_channel_pair"]}
    queues = {q["queue"]: q for q in sla["by_queue"]}
    partners = {p["partner_id"]: p for p in answer["partners"]}
    spread = decisions["time_to_decision_s"]
    yield family("dealgate_registrations_by_channel", "Registrations by channel", "channel",
                 registrations["by_channel"])
    yield family("dealgate_registrations_by_region", "Registrations by customer region", "region",
                 registrations["by_region"])
    yield family("dealgate_conflict_cases", "Cases in which a channel pair collides", "pair",
                 {k: p["cases"] for k, p in pairs.items()})
    yield family("dealgate_conflict_rate", "Cases per registration of a channel pair's channels", "pair",
                 {k: p["rate"] for k, p in pairs.items()})
    yield family("dealgate_time_to_decision_seconds", "Time from a case opening to the desk's decision",
                 "quantile", {"0.5": spread["p50"], "0.9": spread["p90"]})
    yield family("dealgate_time_to_decision_max_seconds", "Longest time from a case opening to the desk's decision",
                 "", {"": spread["max"]})
    yield family("dealgate_decisions", "Resolved cases by decision", "decision", decisions["by_decision"])
    yield family("dealgate_awards", "Awards by the winner's channel", "channel", decisions["awards_by_channel"])
    yield family("dealgate_sla_met_cases", "Cases resolved by their SLA due time", "queue",
                 {k: q["met"] for k, q in queues.items()})
    yield family("dealgate_sla_breached_cases", "Cases resolved after, or still open past, their SLA due time",
                 "queue", {k: q["breached"] for k, q in queues.items()})
    yield family("dealgate_sla_breach_rate", "Breached over met and breached cases", "queue",
                 {k: q["breach_rate"] for k, q in queues.items()})
    yield family("dealgate_partner_registrations", "Registrations of the top partners", "partner",
                 {k: p["registrations"] for k, p in partners.items()})
    yield family("dealgate_partner_conflict_rate", "Share of a top partner's registrations that are in a case",
                 "partner", {k: p["conflict_rate"] for k, p in partners.items()})
    yield family("dealgate_partner_award_rate", "Share of a top partner's registrations in awarded cases it won",
                 "partner", {k: p["award_rate"] for k, p in partners.items()})
