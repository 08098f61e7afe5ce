"""Conflict use cases: verdicts for submitted registrations, and the desk's claim and resolve."""
from __future__ import annotations

import datetime as dt

from services.conflict.domain.events import case_event, registration_cleared
from services.conflict.domain.model import Case, DomainError, TrackedRegistration
from shared.events import CloudEvent
from shared.topics import CONFLICT_CASES

DEFAULT_SLA = dt.timedelta(days=2)


class NotFound(Exception):
    pass


def _flush(case: Case, uow) -> None:
    for event_type in case.events:
        uow.publish(CONFLICT_CASES, case_event(event_type, case))
    case.events.clear()


def on_deal_submitted(event: CloudEvent, *, uow, matcher) -> None:
    registration = TrackedRegistration.from_event(event.data)
    if uow.registrations.get(registration.deal_id) is not None:
        return  # already judged: exactly one verdict per registration
    overlaps = matcher.find_overlaps(registration, uow=uow)
    if not overlaps:
        uow.registrations.upsert(registration)
        uow.publish(CONFLICT_CASES, registration_cleared(
            registration.deal_id, reason="No competing registration was found for this customer and product."))
        return
    evidence = [o.evidence for o in overlaps]
    open_case_ids = [o.other.case_id for o in overlaps if o.other.case_id]
    case = next((c for c in (uow.cases.get(i, for_update=True) for i in open_case_ids)
                 if c is not None and c.status != "resolved"), None)
    if case is not None:
        case.join(registration, evidence)
        uow.cases.save(case)
    else:
        case = Case.open(registrations=[o.other for o in overlaps] + [registration], evidence=evidence,
                         queue="default", priority="normal", sla=DEFAULT_SLA)
        uow.cases.add(case)
        for overlap in overlaps:
            overlap.other.case_id = case.id
            uow.registrations.upsert(overlap.other)
    registration.case_id = case.id
    uow.registrations.upsert(registration)
    _flush(case, uow)


def on_deal_changed(event: CloudEvent, *, uow) -> None:
    registration = uow.registrations.get(event.data["id"])
    if registration is None:
        return
    registration.status = event.data["status"]
    uow.registrations.upsert(registration)


def get_case(case_id: str, *, uow) -> Case:
    with uow:
        case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(case_id)
    return case


def list_cases(*, uow, queue: str | None, status: str | None, limit: int, after_id: str | None) -> list[Case]:
    with uow:
        return uow.cases.list(queue=queue, status=status, limit=limit, after_id=after_id)


def claim_case(case_id: str, *, by: str, uow) -> Case:
    return _change(case_id, uow, lambda case: case.claim(by=by))


def resolve_case(case_id: str, *, decision: str, winner: str | None, note: str, by: str, uow) -> Case:
    return _change(case_id, uow, lambda case: case.resolve(decision=decision, winner=winner, note=note, by=by))


def _change(case_id: str, uow, change) -> Case:
    with uow:
        case = uow.cases.get(case_id, for_update=True)
        if case is None:
            raise NotFound(case_id)
        change(case)
        uow.cases.save(case)
        _flush(case, uow)
        uow.commit()
        return case


def consumer_handlers(matcher) -> dict:
    return {
        "deal.submitted": lambda event, *, uow: on_deal_submitted(event, uow=uow, matcher=matcher),
        "deal.approved": on_deal_changed,
        "deal.updated": on_deal_changed,
        "deal.rejected": on_deal_changed,
        "deal.withdrawn": on_deal_changed,
        "deal.expired": on_deal_changed,
        "deal.closed": on_deal_changed,
    }


__all__ = ["DomainError", "NotFound", "claim_case", "consumer_handlers", "get_case", "list_cases",
           "on_deal_submitted", "resolve_case"]
