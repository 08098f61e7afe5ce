"""Conflict verdicts as they travel on conflicts.cases.v1."""
from __future__ import annotations

from typing import Any

from services.conflict.domain.model import Case, TrackedRegistration
from shared.events import CloudEvent
from shared.topics import CONFLICT_CASES

SOURCE = "/dealgate/conflict"


def registration_cleared(deal_id: str, *, reason: str, evidence: dict[str, Any] | None = None) -> CloudEvent:
    return CloudEvent(type="registration.cleared", source=SOURCE, subject=deal_id,
                      data={"deal_id": deal_id, "reason": reason, "evidence": evidence or {}})


def case_event(event_type: str, case: Case) -> CloudEvent:
    return CloudEvent(type=event_type, source=SOURCE, subject=case.id, data=case.to_dict())


def new_events(aggregate: Case | TrackedRegistration) -> list[tuple[str, CloudEvent]]:
    """What a case or a registration recorded, as messages; called by the unit of work at commit."""
    if isinstance(aggregate, Case):
        case_types, aggregate.events = aggregate.events, []
        return [(CONFLICT_CASES, case_event(event_type, aggregate)) for event_type in case_types]
    recorded, aggregate.events = aggregate.events, []
    return [(CONFLICT_CASES, registration_cleared(aggregate.deal_id, **data)) for _, data in recorded]
