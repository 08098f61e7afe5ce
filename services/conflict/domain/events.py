"""Conflict verdicts as they travel on conflicts.cases.v1.

A case event is bounded, however many registrations the case holds: the case's summary (id, queue, priority,
status, SLA, counts, the resolution) and only the members this change touched, with their outcomes when it is a
decision. The full case stays in conflict's database and API. When the members touched (a case opened with, or
decided over, hundreds of registrations) would make one message larger than PART_BUDGET_BYTES, the event goes
out in parts, each with the summary and its share of the members; `part` says which (1 of n). The parts of a
case.opened after the first are case.updated, so a case is still opened by exactly one event.
"""
from __future__ import annotations

import json
from typing import Any

from services.conflict.domain.model import ACTIVE_DEAL_STATUSES, Case, TrackedRegistration, iso
from services.conflict.domain.territories import Territory
from shared.events import CloudEvent
from shared.topics import CONFLICT_CASES, CONFLICT_TERRITORIES

SOURCE = "/dealgate/conflict"
# The members' share of one case event. The summary adds at most ~15 kB (the desk's note is 2000 characters at
# most), and one member at most ~25 kB (deals caps names, domains and products), so an event stays under 256 kB:
# far below Kafka's default message.max.bytes (1 MiB), which the relay checks at start-up.
PART_BUDGET_BYTES = 192 * 1024


def registration_cleared(deal_id: str, *, reason: str, evidence: dict[str, Any] | None = None) -> CloudEvent:
    return CloudEvent(type="registration.cleared", source=SOURCE, subject=deal_id,
                      data={"deal_id": deal_id, "reason": reason, "evidence": evidence or {}})


def case_summary(case: Case) -> dict[str, Any]:
    """What every case event says about the case, whatever its size."""
    registrations = case.registrations
    return {
        "id": case.id, "queue": case.queue, "priority": case.priority, "status": case.status,
        "sla_due_at": iso(case.sla_due_at), "sla_breached": case.sla_breached(),
        "opened_at": iso(case.opened_at), "claimed_by": case.claimed_by, "version": case.version,
        "recommendation": case.recommendation, "rules_version": case.rules_version,
        "registrations_total": len(registrations),
        "counts": {"registrations": len(registrations),
                   "active": sum(1 for r in registrations if r.get("status", "submitted") in ACTIVE_DEAL_STATUSES),
                   "partners": len({r["partner_id"] for r in registrations}),
                   "evidence": len(case.evidence), "history": len(case.history)},
    }


def case_events(event_type: str, case: Case, changed: list[str]) -> list[CloudEvent]:
    """One change of `case` as events: the summary and the members in `changed` (in parts if they are many)."""
    summary = case_summary(case)
    outcomes: dict[str, Any] = (case.resolution or {}).get("outcomes") or {}
    by_id = {member["deal_id"]: member for member in case.registrations}
    members = [by_id[deal_id] for deal_id in dict.fromkeys(changed) if deal_id in by_id]
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for member in members:
        cost = len(json.dumps([member, outcomes.get(member["deal_id"])]))
        if parts[-1] and size + cost > PART_BUDGET_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(member)
        size += cost
    events = []
    for index, part in enumerate(parts):
        data = {**summary, "members": part, "part": {"index": index + 1, "of": len(parts)}, "resolution": None}
        if case.resolution is not None:
            data["resolution"] = {**{k: v for k, v in case.resolution.items() if k != "outcomes"},
                                  "outcomes": {m["deal_id"]: outcomes[m["deal_id"]] for m in part
                                               if m["deal_id"] in outcomes}}
        part_type = "case.updated" if event_type == "case.opened" and index > 0 else event_type
        events.append(CloudEvent(type=part_type, source=SOURCE, subject=case.id, data=data))
    return events


def new_events(aggregate: Case | TrackedRegistration | Territory) -> list[tuple[str, CloudEvent]]:
    """What a case or a registration recorded, as messages; called by the unit of work at commit."""
    if isinstance(aggregate, Territory):  # issue 18: the latest version, on the compacted topic
        updates, aggregate.events = aggregate.events, []
        return [(CONFLICT_TERRITORIES, CloudEvent(type="territory.updated", source=SOURCE, subject=aggregate.name,
                                                  data=aggregate.to_dict())) for _ in updates[-1:]]
    if isinstance(aggregate, Case):
        changes, aggregate.events = aggregate.events, []
        return [(CONFLICT_CASES, event) for event_type, changed in changes
                for event in case_events(event_type, aggregate, changed)]
    recorded, aggregate.events = aggregate.events, []
    return [(CONFLICT_CASES, registration_cleared(aggregate.deal_id, **data)) for _, data in recorded]
