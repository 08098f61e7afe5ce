"""Which partner a vendor lead goes to when no partner holds its customer and no territory names it.

A partner is eligible when its profile lists the customer's country, it has free lead capacity, and it has not
had this lead already. Each eligible partner scores the weighted sum of five factors, each between 0 and 1:

| factor        | 1.0 means                                             | 0.0 means                          |
|---------------|-------------------------------------------------------|------------------------------------|
| territory     | it owns a territory covering the customer's country  | it does not                        |
| tier          | the top tier (tier_points: registered .25 ... platinum 1) | -                              |
| capacity      | all its lead capacity is free                         | none is                            |
| win_rate      | (won + 1) / (won + lost + 2) of its closed registrations, so no history is 0.5 |          |
| accept_speed  | 1 / (1 + mean hours to accept / 24); no accepted lead yet is 0.5 |                        |

The weights (DEALS_LEAD_WEIGHTS) and tier points (DEALS_LEAD_TIER_POINTS) are settings. The highest score wins;
among equal scores, round-robin: the partner whose last lead is oldest (never assigned first), then by id.
Every factor's value and points are recorded with the assignment, so the desk can see why. Standard library only.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from services.deals.domain.partners import TIERS, PartnerProfile
from shared.business_hours import BusinessCalendar
from shared.identity import customer_keys, tax_id_core

FACTORS = ("territory", "tier", "capacity", "win_rate", "accept_speed")
DEFAULT_WEIGHTS = {"territory": 30.0, "tier": 25.0, "capacity": 20.0, "win_rate": 15.0, "accept_speed": 10.0}
DEFAULT_TIER_POINTS = {"registered": 0.25, "silver": 0.5, "gold": 0.75, "platinum": 1.0}
_EQUAL = 1e-9


def parse_weights(text: str, *, known: Iterable[str], name: str) -> dict[str, float]:
    """"a=1,b=2.5" -> {"a": 1.0, "b": 2.5}; ValueError naming the setting on anything else."""
    known = tuple(known)
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise ValueError(f"{name}: expected name=number pairs with names from {', '.join(known)}, got {part!r}")
        try:
            weights[key] = float(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {key} needs a number, got {value!r}") from exc
        if weights[key] < 0:
            raise ValueError(f"{name}: {key} cannot be negative")
    return weights


@dataclasses.dataclass(frozen=True)
class AssignmentPolicy:
    weights: Mapping[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    tier_points: Mapping[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_TIER_POINTS))
    sla_hours: float = 48.0
    # None: the SLA counts wall-clock hours (tests, or a desk that works around the clock).
    calendar: BusinessCalendar | None = dataclasses.field(default_factory=BusinessCalendar)
    max_declines: int = 3

    @classmethod
    def from_settings(cls, *, weights: str, tier_points: str, sla_hours: float, clock: str,
                      max_declines: int) -> AssignmentPolicy:
        return cls(weights={**{f: 0.0 for f in FACTORS}, **parse_weights(weights, known=FACTORS,
                                                                          name="DEALS_LEAD_WEIGHTS")},
                   tier_points={**{t: 0.0 for t in TIERS}, **parse_weights(tier_points, known=TIERS,
                                                                          name="DEALS_LEAD_TIER_POINTS")},
                   sla_hours=sla_hours, calendar=BusinessCalendar() if clock == "business" else None,
                   max_declines=max_declines)

    def due_at(self, assigned_at: dt.datetime, sla_hours: float | None = None) -> dt.datetime:
        hours = self.sla_hours if sla_hours is None else sla_hours
        if self.calendar is None:
            return assigned_at + dt.timedelta(hours=hours)
        return self.calendar.add_business_hours(assigned_at, hours)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A partner with the figures its score reads: from its profile, deals' registrations and leads."""

    profile: PartnerProfile
    open_leads: int = 0
    won: int = 0
    lost: int = 0
    mean_hours_to_accept: float | None = None
    last_assigned_at: dt.datetime | None = None
    territory: str | None = None  # the name of a territory it owns that covers the customer's country

    @property
    def partner_id(self) -> str:
        return self.profile.partner_id

    @property
    def free_capacity(self) -> int:
        return max(self.profile.lead_capacity - self.open_leads, 0)


@dataclasses.dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    reasons: list[dict[str, Any]]


def factors(candidate: Candidate, policy: AssignmentPolicy) -> list[tuple[str, float, str]]:
    """(factor, value in 0..1, what it rests on) for one candidate."""
    profile = candidate.profile
    capacity = profile.lead_capacity
    win_rate = (candidate.won + 1) / (candidate.won + candidate.lost + 2)
    hours = candidate.mean_hours_to_accept
    return [
        ("territory", 1.0 if candidate.territory else 0.0,
         f"owns territory {candidate.territory}" if candidate.territory else "owns no territory for the country"),
        ("tier", float(policy.tier_points.get(profile.tier, 0.0)), f"tier {profile.tier}"),
        ("capacity", candidate.free_capacity / capacity if capacity else 0.0,
         f"{candidate.free_capacity} of {capacity} lead slots free"),
        ("win_rate", win_rate, f"{candidate.won} won, {candidate.lost} lost"),
        ("accept_speed", 1 / (1 + hours / 24) if hours is not None else 0.5,
         f"accepts in {hours:.1f} h on average" if hours is not None else "no accepted lead yet"),
    ]


def eligible(candidate: Candidate, *, country: str, tried: set[str]) -> bool:
    return (candidate.profile.sells_in(country) and candidate.free_capacity > 0
            and candidate.partner_id not in tried)


def rank(candidates: Iterable[Candidate], *, country: str, tried: set[str],
         policy: AssignmentPolicy) -> list[Scored]:
    """The eligible candidates, best first, each with its score and the reasons for it."""
    scored = []
    for candidate in candidates:
        if not eligible(candidate, country=country, tried=tried):
            continue
        reasons, total = [], 0.0
        for factor, value, basis in factors(candidate, policy):
            points = round(policy.weights.get(factor, 0.0) * value, 4)
            total += points
            reasons.append({"factor": factor, "value": round(value, 4), "points": points, "basis": basis})
        scored.append(Scored(candidate, round(total, 4), reasons))
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    scored.sort(key=lambda s: (-s.score, s.candidate.last_assigned_at or never, s.candidate.partner_id))
    if len(scored) > 1 and abs(scored[0].score - scored[1].score) < _EQUAL:
        tied = sum(1 for s in scored if abs(s.score - scored[0].score) < _EQUAL)
        scored[0].reasons.append({"factor": "round_robin", "value": None, "points": 0.0,
                                  "basis": f"{tied} partners scored the same; this one's last lead is the oldest"})
    return scored


def named_account_owner(customer: dict[str, Any], all_territories: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The territory that names this customer as an account (by registrable domain or tax id), if any."""
    keys = customer_keys(customer)
    wanted = set()
    if keys["domain"]:
        wanted.add(("domain", keys["domain"]))
    if keys["tax_id"]:
        wanted.add(("tax_id", tax_id_core(keys["tax_id"])))
    for territory in all_territories:
        for account in territory.get("named_accounts") or []:
            if (account["kind"], account["key"]) in wanted:
                return territory
    return None


def territories_covering(country: str, all_territories: list[dict[str, Any]]) -> dict[str, str]:
    """owner -> the name of a territory it owns that lists the country."""
    covering: dict[str, str] = {}
    for territory in all_territories:
        if country.upper() in (territory.get("countries") or []):
            covering.setdefault(territory["owner"], territory["name"])
    return covering
