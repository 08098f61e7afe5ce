"""Rules of engagement: which queue, priority, SLA and recommendation a case gets, and what auto-resolves.

The rules come from a versioned document (services/conflict/rules/default_rules.yaml documents every key).
Rules are read top to bottom; for each setting (queue, priority, SLA, recommendation) the first matching rule
that sets it decides, and `defaults` fill the rest. Every decision is recorded as {rule, effect} on the case.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from services.conflict.domain.sla import WEEKDAYS, BusinessCalendar
from services.conflict.domain.territories import TerritoryPolicy
from shared.reference import region_of

PARTNER_CHANNELS = ("reseller", "distributor", "msp")
CHANNEL_CLASSES = ("partner", "any", "marketplace", "direct") + PARTNER_CHANNELS
PRIORITIES = ("low", "normal", "high", "urgent")
STRATEGIES = ("earliest_with_evidence", "earliest", "direct_keeps_named_account", "none")
OWN_DUPLICATE_ACTIONS = ("merge", "review", "ignore")
SETTINGS = ("queue", "priority", "sla_business_hours", "recommend")
CONDITIONS = ("region", "country", "channel_pair", "min_amount_usd", "max_amount_usd", "named_direct_account",
              "band")


class RulesError(ValueError):
    """The rules document is invalid; the message names the offending key."""


@dataclasses.dataclass(frozen=True)
class CaseFacts:
    """What rules may look at: the case's registrations (summaries) and its customer's domains."""
    registrations: tuple[dict[str, Any], ...]
    customer_domains: frozenset[str] = frozenset()
    band: str = "possible"

    @property
    def country(self) -> str:
        return (self.registrations[0]["customer"].get("country") or "").upper()

    @property
    def region(self) -> str | None:
        """None for a country with no sales region: then no `region` condition holds, and later rules decide."""
        return region_of(self.country)

    @property
    def channels(self) -> list[str]:
        return [r["channel"] for r in self.registrations]


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    when: dict[str, Any]
    then: dict[str, Any]
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Routing:
    queue: str
    priority: str
    sla_due_at: dt.datetime
    recommendation: dict[str, Any] | None
    applied: list[dict[str, str]]
    rules_version: int


@dataclasses.dataclass(frozen=True)
class RulesOfEngagement:
    version: int
    calendar: BusinessCalendar
    defaults: dict[str, Any]
    rules: tuple[Rule, ...]
    usd_rates: dict[str, Decimal]
    named_direct_accounts: frozenset[str]
    own_duplicate: str = "merge"
    inactive_overlaps: str = "clear"
    territories: TerritoryPolicy = TerritoryPolicy()  # the `territories:` section (domain/territories.py)

    # -- loading -------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, document: Any) -> RulesOfEngagement:
        if not isinstance(document, dict):
            raise RulesError("the rules document must be a mapping")
        version = document.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise RulesError("version: a positive integer is required")
        defaults = {"queue": "general", "priority": "normal", "sla_business_hours": 16,
                    "recommend": "earliest_with_evidence", **(document.get("defaults") or {})}
        _check_settings("defaults", defaults)
        rules = []
        for position, raw in enumerate(document.get("rules") or []):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise RulesError(f"rules[{position}]: each rule needs an id")
            when, then = raw.get("when") or {}, raw.get("then") or {}
            _check_conditions(f"rules[{raw['id']}].when", when)
            _check_settings(f"rules[{raw['id']}].then", then)
            if not then:
                raise RulesError(f"rules[{raw['id']}].then: a rule must set something")
            rules.append(Rule(id=raw["id"], when=when, then=then, description=str(raw.get("description", ""))))
        if len({r.id for r in rules}) != len(rules):
            raise RulesError("rules: ids must be unique")
        auto = document.get("auto_resolve") or {}
        own_duplicate = auto.get("own_duplicate", "merge")
        if own_duplicate not in OWN_DUPLICATE_ACTIONS:
            raise RulesError(f"auto_resolve.own_duplicate: one of {', '.join(OWN_DUPLICATE_ACTIONS)}")
        if auto.get("inactive_overlaps", "clear") != "clear":
            raise RulesError("auto_resolve.inactive_overlaps: only 'clear' is supported")
        try:
            rates = {str(k).upper(): Decimal(str(v)) for k, v in (document.get("usd_rates") or {"USD": 1}).items()}
        except InvalidOperation as exc:
            raise RulesError("usd_rates: numbers are required") from exc
        return cls(version=version, calendar=_calendar(document.get("business_hours") or {}), defaults=defaults,
                   rules=tuple(rules), usd_rates=rates,
                   named_direct_accounts=frozenset(str(d).lower() for d in document.get("named_direct_accounts") or []),
                   own_duplicate=own_duplicate, territories=_territory_policy(document.get("territories")))

    # -- evaluation ----------------------------------------------------------------------------------
    def route(self, facts: CaseFacts, *, opened_at: dt.datetime) -> Routing:
        decided: dict[str, Any] = {}
        applied: list[dict[str, str]] = []
        for rule in self.rules:
            if not self._matches(rule.when, facts):
                continue
            for setting, value in rule.then.items():
                if setting not in decided:
                    decided[setting] = value
                    applied.append({"rule": rule.id, "effect": f"{setting}={value}"})
        for setting in SETTINGS:
            if setting not in decided:
                decided[setting] = self.defaults[setting]
                applied.append({"rule": "defaults", "effect": f"{setting}={self.defaults[setting]}"})
        recommendation = self.recommend(decided["recommend"], facts)
        if recommendation:
            rule_id = next(a["rule"] for a in applied if a["effect"].startswith("recommend="))
            recommendation["rule"] = rule_id
        return Routing(queue=decided["queue"], priority=decided["priority"],
                       sla_due_at=self.calendar.add_business_hours(opened_at, float(decided["sla_business_hours"])),
                       recommendation=recommendation, applied=applied, rules_version=self.version)

    def recommend(self, strategy: str, facts: CaseFacts) -> dict[str, Any] | None:
        registrations = sorted(facts.registrations, key=lambda r: (r["submitted_at"], r["deal_id"]))
        if strategy == "none" or not registrations:
            return None
        if strategy == "direct_keeps_named_account":
            direct = [r for r in registrations if r["channel"] == "direct"]
            if direct and self._is_named_direct_account(facts):
                return {"strategy": strategy, "winner": direct[0]["deal_id"],
                        "reason": "The customer is a named direct account, so direct sales keeps it."}
            strategy = "earliest_with_evidence"  # the account is not named: fall back to the usual rule
        if strategy == "earliest_with_evidence":
            with_evidence = [r for r in registrations if _has_identifying_evidence(r["customer"])]
            if with_evidence:
                return {"strategy": strategy, "winner": with_evidence[0]["deal_id"],
                        "reason": "The earliest registration that identifies the customer (domain, tax id or "
                                  "DUNS) wins."}
        return {"strategy": "earliest", "winner": registrations[0]["deal_id"],
                "reason": "The earliest registration wins."}

    def amount_usd(self, amount: dict[str, Any]) -> Decimal | None:
        rate = self.usd_rates.get(str(amount.get("currency", "")).upper())
        try:
            return Decimal(str(amount.get("amount"))) * rate if rate is not None else None
        except InvalidOperation:
            return None

    def _is_named_direct_account(self, facts: CaseFacts) -> bool:
        return bool(facts.customer_domains & self.named_direct_accounts)

    def _matches(self, when: dict[str, Any], facts: CaseFacts) -> bool:
        for condition, expected in when.items():
            if condition == "region" and facts.region not in _as_list(expected):
                return False
            if condition == "country" and facts.country not in [c.upper() for c in _as_list(expected)]:
                return False
            if condition == "channel_pair" and not _has_channel_pair(facts.registrations, *expected):
                return False
            if condition in ("min_amount_usd", "max_amount_usd"):
                amounts = [a for a in (self.amount_usd(r["amount"]) for r in facts.registrations) if a is not None]
                largest = max(amounts, default=None)
                if largest is None:
                    return False
                if condition == "min_amount_usd" and largest < Decimal(str(expected)):
                    return False
                if condition == "max_amount_usd" and largest > Decimal(str(expected)):
                    return False
            if condition == "named_direct_account" and self._is_named_direct_account(facts) != bool(expected):
                return False
            if condition == "band" and facts.band not in _as_list(expected):
                return False
        return True


def _territory_policy(raw: Any) -> TerritoryPolicy:
    try:
        return TerritoryPolicy.from_dict(raw)
    except ValueError as exc:
        raise RulesError(str(exc)) from exc


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _channel_is(channel: str, expected: str) -> bool:
    return expected == "any" or channel == expected or (expected == "partner" and channel in PARTNER_CHANNELS)


def _has_channel_pair(registrations: Iterable[dict[str, Any]], first: str, second: str) -> bool:
    """Two registrations of different partners whose channels are (first, second), in either order."""
    registrations = list(registrations)
    for i, a in enumerate(registrations):
        for b in registrations[i + 1:]:
            if a["partner_id"] == b["partner_id"]:
                continue
            if (_channel_is(a["channel"], first) and _channel_is(b["channel"], second)) or (
                    _channel_is(a["channel"], second) and _channel_is(b["channel"], first)):
                return True
    return False


def _has_identifying_evidence(customer: dict[str, Any]) -> bool:
    return bool(customer.get("domain") or customer.get("tax_id") or customer.get("duns"))


def _check_conditions(where: str, when: Any) -> None:
    if not isinstance(when, dict):
        raise RulesError(f"{where}: a mapping of conditions is required")
    for key, value in when.items():
        if key not in CONDITIONS:
            raise RulesError(f"{where}.{key}: unknown condition (known: {', '.join(CONDITIONS)})")
        if key == "channel_pair" and (not isinstance(value, list) or len(value) != 2
                                      or any(v not in CHANNEL_CLASSES for v in value)):
            raise RulesError(f"{where}.channel_pair: two of {', '.join(CHANNEL_CLASSES)}")
        if key in ("min_amount_usd", "max_amount_usd"):
            try:
                Decimal(str(value))
            except InvalidOperation as exc:
                raise RulesError(f"{where}.{key}: a number is required") from exc


def _check_settings(where: str, then: Any) -> None:
    if not isinstance(then, dict):
        raise RulesError(f"{where}: a mapping of settings is required")
    for key, value in then.items():
        if key not in SETTINGS:
            raise RulesError(f"{where}.{key}: unknown setting (known: {', '.join(SETTINGS)})")
        if key == "queue" and not (isinstance(value, str) and 0 < len(value) <= 100):
            raise RulesError(f"{where}.queue: a name of 1 to 100 characters is required")
        if key == "priority" and value not in PRIORITIES:
            raise RulesError(f"{where}.priority: one of {', '.join(PRIORITIES)}")
        if key == "sla_business_hours" and not (isinstance(value, (int, float)) and 0 < value <= 2000):
            raise RulesError(f"{where}.sla_business_hours: a positive number of hours is required")
        if key == "recommend" and value not in STRATEGIES:
            raise RulesError(f"{where}.recommend: one of {', '.join(STRATEGIES)}")


def _calendar(raw: dict[str, Any]) -> BusinessCalendar:
    try:
        days = raw.get("workdays") or list(WEEKDAYS[:5])
        return BusinessCalendar(timezone=str(raw.get("timezone", "UTC")),
                                opens=dt.time.fromisoformat(str(raw.get("opens", "09:00"))),
                                closes=dt.time.fromisoformat(str(raw.get("closes", "17:00"))),
                                workdays=frozenset(WEEKDAYS.index(str(d).lower()[:3]) for d in days))
    except (ValueError, KeyError, LookupError) as exc:
        raise RulesError(f"business_hours: {exc}") from exc
