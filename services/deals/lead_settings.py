"""The lead settings of DealsSettings, read and checked once at start-up, and the assignment policy built from them."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.deals.domain.assignment import AssignmentPolicy
from shared.config import ConfigError, read_float, read_int

if TYPE_CHECKING:
    from services.deals.settings import DealsSettings

DEFAULT_WEIGHTS = "territory=30,tier=25,capacity=20,win_rate=15,accept_speed=10"
DEFAULT_TIER_POINTS = "registered=0.25,silver=0.5,gold=0.75,platinum=1"
CLOCKS = ("business", "wall")


def lead_values(env: Mapping[str, str]) -> dict[str, Any]:
    clock = env.get("DEALS_LEAD_SLA_CLOCK", "business").strip() or "business"
    if clock not in CLOCKS:
        raise ConfigError(f"DEALS_LEAD_SLA_CLOCK must be one of {', '.join(CLOCKS)}, not {clock!r}")
    values = dict(lead_sla_hours=read_float(env, "DEALS_LEAD_SLA_HOURS", 48.0, minimum=0.0001),
                  lead_sla_clock=clock,
                  lead_max_declines=read_int(env, "DEALS_LEAD_MAX_DECLINES", 3, minimum=1),
                  lead_weights=env.get("DEALS_LEAD_WEIGHTS", "").strip() or DEFAULT_WEIGHTS,
                  lead_tier_points=env.get("DEALS_LEAD_TIER_POINTS", "").strip() or DEFAULT_TIER_POINTS)
    try:
        _policy(values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return values


def _policy(values: Mapping[str, Any]) -> AssignmentPolicy:
    return AssignmentPolicy.from_settings(weights=values["lead_weights"], tier_points=values["lead_tier_points"],
                                          sla_hours=values["lead_sla_hours"], clock=values["lead_sla_clock"],
                                          max_declines=values["lead_max_declines"])


def lead_policy(settings: DealsSettings) -> AssignmentPolicy:
    return _policy({name: getattr(settings, name) for name in ("lead_weights", "lead_tier_points", "lead_sla_hours",
                                                                "lead_sla_clock", "lead_max_declines")})
