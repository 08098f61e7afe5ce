"""Territories (issue 18): the admin's use cases, the partner profiles conflict learns from deals, and the rule hook
each verdict runs (on_deal_submitted calls judge, then refuse / open_case / record).

What a territory does to a registration is decided in domain/territories.py; here it becomes a verdict: a case in
the owner's queue, a rejection by rule (an auto-resolved case, like an own duplicate), or a flag in rules_applied.
"""
from __future__ import annotations

import datetime as dt
import statistics
from typing import TYPE_CHECKING, Any

import structlog

from services.conflict.domain.model import Case, TrackedRegistration
from services.conflict.domain.rules import CaseFacts, RulesOfEngagement
from services.conflict.domain.territories import Territory, TerritoryJudgement, checked_fields
from services.conflict.domain.territories import judge as judge_rules
from services.conflict.overlaps import customer_domains
from shared.auth import Principal
from shared.clock import parse_iso
from shared.events import CloudEvent

if TYPE_CHECKING:
    from services.conflict.storage.uow import ConflictUnitOfWork

log = structlog.get_logger(__name__)
# Territory changes take this lock, so two at once cannot both name the same account.
TERRITORY_LOCK = "territories:named-accounts"


class NotFound(Exception):
    pass


# --- The admin's use cases ------------------------------------------------------------------------------------


def put_territory(name: str, raw: dict[str, Any], *, principal: Principal,
                  uow: ConflictUnitOfWork) -> tuple[Territory, bool]:
    """Define or change a territory (TerritoryInvalid names each conflict); True when it was created."""
    with uow:
        uow.locks.acquire([TERRITORY_LOCK])
        fields = checked_fields(name, raw, others=uow.territories.all(), known_partners=uow.partners.ids())
        territory = uow.territories.get(name, for_update=True)
        created = territory is None
        if territory is None:
            territory = Territory.define(name, fields, by=principal.sub)
            uow.territories.add(territory)
        elif territory.change(fields, by=principal.sub):
            uow.territories.save(territory)
        uow.commit()
    log.info("territory.saved", name=name, version=territory.version, by=principal.sub)
    return territory, created


def get_territory(name: str, *, uow: ConflictUnitOfWork) -> tuple[Territory, list[dict[str, Any]]]:
    """The territory and every version of it, newest first, each with who made it and when."""
    with uow:
        territory = uow.territories.get(name)
        if territory is None:
            raise NotFound(name)
        return territory, uow.territories.versions(name)


def list_territories(*, uow: ConflictUnitOfWork) -> list[Territory]:
    with uow:
        return uow.territories.all()


def on_partner_changed(event: CloudEvent, *, uow: ConflictUnitOfWork) -> None:
    """deals.partners.v1: which partners exist (territory owners) and where each may sell."""
    uow.partners.upsert(event.data)


LEAD_EVENTS = ("lead.created", "lead.assigned", "lead.accepted", "lead.declined", "lead.expired", "lead.reassigned")


def on_lead_changed(event: CloudEvent, *, uow: ConflictUnitOfWork) -> None:
    """deals.leads.v1: the desk's lead board keeps each lead's latest state, with every assignment's reasons."""
    uow.lead_board.upsert(event.data)


def lead_board(*, uow: ConflictUnitOfWork, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Leads newest first, each assignment with its partner's tier and channel as conflict knows them."""
    with uow:
        leads = uow.lead_board.list(status=status, limit=limit)
        partners = {pid: uow.partners.get(pid) for pid in {a["partner_id"] for lead in leads
                                                            for a in lead.get("attempts") or []}}
    for lead in leads:
        for attempt in lead.get("attempts") or []:
            profile = partners.get(attempt["partner_id"]) or {}
            attempt["tier"] = profile.get("tier")
            channels = profile.get("channels") or ["direct" if attempt["partner_id"] == "direct" else None]
            attempt["channel"] = channels[0]
    return leads


def lead_figures(leads: list[dict[str, Any]]) -> dict[str, Any]:
    """Leads by the assignee's channel and tier (as lead_board labels them), acceptance rate, reassignments and
    time to accept (hours from an assignment to its acceptance)."""
    groups: dict[str, dict[str, dict[str, int]]] = {"channel": {}, "tier": {}}
    hours: list[float] = []
    for lead in leads:
        for attempt in lead.get("attempts") or []:
            for dimension in ("channel", "tier"):
                row = groups[dimension].setdefault(str(attempt.get(dimension) or "unknown"),
                                                   {"assigned": 0, "accepted": 0, "declined": 0, "expired": 0})
                row["assigned"] += 1
                if attempt.get("outcome") in row:
                    row[attempt["outcome"]] += 1
            ended, assigned = parse_iso(attempt.get("ended_at")), parse_iso(attempt.get("assigned_at"))
            if attempt.get("outcome") == "accepted" and ended and assigned:
                hours.append((ended - assigned).total_seconds() / 3600)
    accepted = sum(1 for lead in leads if lead["status"] == "accepted")
    return {"leads": len(leads), "by_channel": groups["channel"], "by_tier": groups["tier"],
            "acceptance_rate": round(accepted / len(leads), 4) if leads else None,
            "reassignments": sum(max(len(lead.get("attempts") or []) - 1, 0) for lead in leads),
            "time_to_accept_hours": {"median": round(statistics.median(hours), 3) if hours else None,
                                     "mean": round(statistics.fmean(hours), 3) if hours else None,
                                     "count": len(hours)}}


# --- The rule hook of each verdict --------------------------------------------------------------------------------


def judge(registration: TrackedRegistration, *, uow: ConflictUnitOfWork,
          rules: RulesOfEngagement) -> TerritoryJudgement:
    profile = uow.partners.get(registration.partner_id)
    return judge_rules(partner_id=registration.partner_id, customer=registration.customer,
                       territories=uow.territories.all(), partner_countries=(profile or {}).get("countries"),
                       policy=rules.territories)


def refuse(registration: TrackedRegistration, setup: TerritoryJudgement, *, uow: ConflictUnitOfWork,
           rules: RulesOfEngagement, now: dt.datetime) -> Case:
    """Rejected by rule: recorded as a case the rules resolve at once, as an own duplicate is."""
    rule, reason = setup.refusal or ("territories", "")
    case = Case.open(registrations=[registration], evidence=[], queue="auto-resolved", priority="low",
                     sla_due_at=now, rules_applied=setup.effects, rules_version=rules.version, now=now)
    case.reject_by_rule(registration.deal_id, rule=rule, reason=reason, now=now,
                        note=f"rejected by rule {rule}: " + "; ".join(e["effect"] for e in setup.effects))
    uow.cases.add(case)
    return case


def open_case(registration: TrackedRegistration, setup: TerritoryJudgement, *, uow: ConflictUnitOfWork,
              rules: RulesOfEngagement, now: dt.datetime) -> Case:
    """No competing registration, yet the territories want the desk to look: a case of this one registration,
    judged against the named account's owner even though the owner registered nothing."""
    summary = registration.summary()
    routing = rules.route(CaseFacts(registrations=(summary,), customer_domains=customer_domains([summary]),
                                    band="clear"), opened_at=now)
    queue = setup.review_queue or routing.queue
    applied = setup.effects + [a for a in routing.applied if not a["effect"].startswith("queue=")]
    case = Case.open(registrations=[registration], evidence=[], queue=queue, priority=routing.priority,
                     sla_due_at=routing.sla_due_at, recommendation=None, rules_applied=applied,
                     rules_version=rules.version, now=now)
    uow.cases.add(case)
    return case


def record(setup: TerritoryJudgement, registration: TrackedRegistration, case: Case | None, *,
           uow: ConflictUnitOfWork) -> None:
    """The territories' effects on a verdict reached otherwise: a case with competitors (a new one goes to the
    owner's queue, with the owner's registration recommended), or a clearance (its evidence)."""
    effects = setup.effects
    if not effects:
        return
    if case is None:
        for event_type, data in registration.events:
            if event_type == "registration.cleared":
                data["evidence"]["territories"] = effects
        return
    if any(e in case.rules_applied for e in effects):
        return  # opened by refuse or open_case, which recorded them
    case.rules_applied.extend(effects)
    opened_now = any(event_type == "case.opened" for event_type, _ in case.events)
    if setup.named is not None and opened_now and not case.is_decided:
        case.queue = setup.policy.queue_of(setup.named.owner)
        owned = sorted((r for r in case.registrations if r["partner_id"] == setup.named.owner),
                       key=lambda r: (r["submitted_at"], r["deal_id"]))
        if owned:
            case.recommendation = {"strategy": "named_account_owner", "winner": owned[0]["deal_id"],
                                   "rule": "territories.named_account",
                                   "reason": f"The customer is a named account of territory {setup.named.name}; "
                                             "its owner keeps it."}
    uow.cases.save(case)
