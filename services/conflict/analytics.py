"""Channel analytics: registrations, conflicts by channel pair, decisions, SLA and partners over a time window.

Every figure is derived from the rows the consumer keeps (registrations and cases), never from counters bumped
per event, so a redelivered or replayed event cannot count twice. The window selects registrations by the time
conflict recorded them and cases by the time they opened; what became of those cases is counted as it stands.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from services.conflict.domain.model import DECISIONS, iso, parse_iso, utcnow
from shared.auth import CHANNELS

# The one place analytics learns a customer's region (the routing rules and deals use the same mapping).
from shared.reference import REGIONS as SALES_REGIONS
from shared.reference import region_of

REGIONS = tuple(sorted(SALES_REGIONS))
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_WINDOW_YEARS = 2
# What a window may name: far enough either way for any real question, and clear of datetime's own limits.
EARLIEST_MOMENT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST_MOMENT = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
TOP_PARTNERS = 10
# Own duplicates merged the moment they arrive: recorded as cases of this queue, they never wait for the desk.
AUTO_RESOLVED_QUEUE = "auto-resolved"
# A case absorbed into an older one: its registrations (and their conflict) are counted in the older case.
MERGED = "merged"


@dataclasses.dataclass(frozen=True)
class RegistrationGroup:
    """Registrations recorded in the window, counted per partner, channel and customer country."""

    partner_id: str
    channel: str
    country: str | None
    registrations: int
    in_cases: int  # of those, the ones in a case the desk sees (own duplicates merged on arrival are not)


@dataclasses.dataclass(frozen=True)
class CaseRow:
    """A case opened in the window: its members' summaries and its resolution, as the case document holds them."""

    id: str
    queue: str
    status: str
    opened_at: dt.datetime
    sla_due_at: dt.datetime | None
    registrations: list[dict[str, Any]]
    resolution: dict[str, Any] | None

    @property
    def region(self) -> str | None:
        """The region the rules route the case by: its first registration's customer country."""
        first = self.registrations[0] if self.registrations else {}
        return region_of((first.get("customer") or {}).get("country"))

    @property
    def decision(self) -> str | None:
        return self.resolution.get("decision") if self.resolution else None

    @property
    def decided_at(self) -> dt.datetime | None:
        return parse_iso(self.resolution.get("decided_at")) if self.resolution else None

    @property
    def winner(self) -> str | None:
        return self.resolution.get("winner") if self.resolution else None


@dataclasses.dataclass(frozen=True)
class Facts:
    registrations: Sequence[RegistrationGroup]
    cases: Sequence[CaseRow]


class AnalyticsSource(Protocol):
    """Reads the facts of one window (storage/analytics.py on the database)."""

    def read(self, start: dt.datetime, end: dt.datetime) -> Facts: ...


def default_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    end = now or utcnow()
    return end - DEFAULT_WINDOW, end


def channel_analytics(source: AnalyticsSource, *, start: dt.datetime, end: dt.datetime, region: str | None = None,
                      now: dt.datetime | None = None) -> dict[str, Any]:
    """The analytics answer for [start, end), optionally for one region's customers."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    return summarise(source.read(start, end), start=start, end=end, region=region, now=now)


def summarise(facts: Facts, *, start: dt.datetime, end: dt.datetime, region: str | None = None,
              now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    groups = [g for g in facts.registrations if region is None or region_of(g.country) == region]
    cases = [c for c in facts.cases if region is None or c.region == region]
    # A merged case lives on inside the case that absorbed it: counting it too would count its conflict twice.
    standing = [c for c in cases if c.decision != MERGED]
    by_channel: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    for group in groups:
        by_channel[group.channel] += group.registrations
        if customer_region := region_of(group.country):  # none for a country outside ISO 3166-1
            by_region[customer_region] += group.registrations
    pairs = _conflicts_by_channel_pair(standing, by_channel)
    return {
        "from": iso(start), "to": iso(end), "region": region,
        "registrations": {"total": sum(by_channel.values()), "by_channel": _ordered(by_channel, CHANNELS),
                          "by_region": _ordered(by_region, REGIONS)},
        "conflicts": {"cases": sum(1 for c in standing if _channel_pairs(c)), "by_channel_pair": pairs},
        "decisions": _decisions(cases),
        "sla": _sla(standing, now),
        "partners": _partners(groups, standing),
    }


# --- conflicts ---------------------------------------------------------------------------------------------------


def _channel_pairs(case: CaseRow) -> set[tuple[str, str]]:
    """The channel pairs that collide in a case: each two members from different partners."""
    return {_pair(a["channel"], b["channel"]) for a, b in itertools.combinations(case.registrations, 2)
            if a["partner_id"] != b["partner_id"]}


def _pair(a: str, b: str) -> tuple[str, str]:
    """Channels in the order partners come first (reseller, distributor, msp, marketplace, direct)."""
    rank = {channel: index for index, channel in enumerate(CHANNELS)}
    first, second = sorted((a, b), key=lambda channel: (rank.get(channel, len(rank)), channel))
    return first, second


def _conflicts_by_channel_pair(cases: Iterable[CaseRow], by_channel: Counter[str]) -> list[dict[str, Any]]:
    """Cases per pair, against the registrations of the pair's channels in the window (rate = cases / those)."""
    cases_per_pair: Counter[tuple[str, str]] = Counter()
    for case in cases:
        cases_per_pair.update(_channel_pairs(case))
    answer = []
    for (first, second), count in cases_per_pair.items():
        registrations = by_channel[first] + (by_channel[second] if second != first else 0)
        answer.append({"pair": [first, second], "registrations": registrations, "cases": count,
                       "rate": _rate(count, registrations)})
    return sorted(answer, key=lambda p: (-(p["rate"] or 0), -p["cases"], p["pair"]))


# --- decisions ---------------------------------------------------------------------------------------------------


def _decisions(cases: Sequence[CaseRow]) -> dict[str, Any]:
    """Every resolution counted by decision; time to decision and its daily series over the desk's own decisions."""
    resolved = [c for c in cases if c.resolution]
    by_decision = Counter(c.decision or "unknown" for c in resolved)
    desk = sorted((c for c in resolved if c.decision in DECISIONS and c.decided_at),
                  key=lambda c: c.decided_at or c.opened_at)
    durations = [_seconds_to_decision(c) for c in desk]
    awards: Counter[str] = Counter()
    for case in resolved:
        if case.decision == "award":
            winner = next((r for r in case.registrations if r["deal_id"] == case.winner), None)
            if winner:
                awards[winner["channel"]] += 1
    series = []
    for day, day_cases in itertools.groupby(desk, key=lambda c: (c.decided_at or c.opened_at).date()):
        day_durations = [_seconds_to_decision(c) for c in day_cases]
        series.append({"date": day.isoformat(), "decisions": len(day_durations), **_spread(day_durations)})
    return {"time_to_decision_s": {**_spread(durations), "max": round(max(durations), 1) if durations else None},
            "by_decision": dict(sorted(by_decision.items())), "awards_by_channel": _ordered(awards, CHANNELS),
            "over_time": series}


def _seconds_to_decision(case: CaseRow) -> float:
    return ((case.decided_at or case.opened_at) - case.opened_at).total_seconds()


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    return {"p50": _percentile(ordered, 0.5), "p90": _percentile(ordered, 0.9)}


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default), so p50 of [10, 20] is 15."""
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return round(ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower), 1)


# --- SLA ---------------------------------------------------------------------------------------------------------


def _sla(cases: Iterable[CaseRow], now: dt.datetime) -> dict[str, Any]:
    """Met: resolved by its due time. Breached: resolved later, or still undecided past it. Pending: neither yet."""
    queues: dict[str, Counter[str]] = {}
    for case in cases:
        if case.queue == AUTO_RESOLVED_QUEUE or case.sla_due_at is None:
            continue
        decided_at = case.decided_at if case.resolution else None
        if decided_at is not None:
            outcome = "met" if decided_at <= case.sla_due_at else "breached"
        else:
            outcome = "breached" if now > case.sla_due_at else "pending"
        queues.setdefault(case.queue, Counter())[outcome] += 1
    total: Counter[str] = sum(queues.values(), Counter())
    return {**_sla_figures(total), "by_queue": [{"queue": queue, **_sla_figures(tally)}
                                                for queue, tally in sorted(queues.items())]}


def _sla_figures(tally: Counter[str]) -> dict[str, Any]:
    return {"met": tally["met"], "breached": tally["breached"], "pending": tally["pending"],
            "breach_rate": _rate(tally["breached"], tally["met"] + tally["breached"])}


# --- partners ----------------------------------------------------------------------------------------------------


def _partners(groups: Iterable[RegistrationGroup], cases: Iterable[CaseRow]) -> list[dict[str, Any]]:
    """The top partners by registrations, with how often they end up in a case and win the desk's awards."""
    registrations: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    channels: dict[str, Counter[str]] = {}
    for group in groups:
        registrations[group.partner_id] += group.registrations
        conflicts[group.partner_id] += group.in_cases
        channels.setdefault(group.partner_id, Counter())[group.channel] += group.registrations
    contested: Counter[str] = Counter()  # registrations in cases the desk decided by award
    awards: Counter[str] = Counter()
    for case in cases:
        if case.decision == "award":
            for member in case.registrations:
                contested[member["partner_id"]] += 1
                awards[member["partner_id"]] += member["deal_id"] == case.winner
    top = sorted(registrations, key=lambda partner: (-registrations[partner], partner))[:TOP_PARTNERS]
    return [{"partner_id": partner, "channel": channels[partner].most_common(1)[0][0],
             "registrations": registrations[partner], "conflicts": conflicts[partner],
             "conflict_rate": _rate(conflicts[partner], registrations[partner]),
             "awards": awards[partner], "award_rate": _rate(awards[partner], contested[partner])}
            for partner in top]


# --- helpers -----------------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    """A share rounded to 4 places; None when there is nothing to divide by (not 0, which would claim a fact)."""
    return round(part / whole, 4) if whole else None


def _ordered(counts: Counter[str], order: Sequence[str]) -> dict[str, int]:
    """Known names in their usual order, then any others alphabetically; names with no count left out."""
    known = [name for name in order if counts.get(name)]
    return {name: counts[name] for name in known + sorted(set(counts) - set(order)) if counts[name]}
