"""Conflict verdicts as they travel on conflicts.cases.v1."""
from __future__ import annotations

from services.conflict.domain.model import Case
from shared.events import CloudEvent

SOURCE = "/dealgate/conflict"


def registration_cleared(deal_id: str, *, reason: str, evidence: dict | None = None) -> CloudEvent:
    return CloudEvent(type="registration.cleared", source=SOURCE, subject=deal_id,
                      data={"deal_id": deal_id, "reason": reason, "evidence": evidence or {}})


def case_event(event_type: str, case: Case) -> CloudEvent:
    return CloudEvent(type=event_type, source=SOURCE, subject=case.id, data=case.to_dict())
