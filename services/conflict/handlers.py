"""Conflict use cases: a verdict for each submitted registration, and the desk's reads, claims and decisions."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import structlog

from services.conflict import territory_handlers
from services.conflict.domain.model import (
    ACTIVE_DEAL_STATUSES,
    Case,
    DomainError,
    TrackedRegistration,
    utcnow,
)
from services.conflict.domain.rules import CaseFacts, RulesOfEngagement
from services.conflict.matching.scoring import contact_for_matching
from services.conflict.overlaps import Findings, OverlapDetector, OverlappingRegistration, customer_domains
from shared.events import CloudEvent
from shared.topics import CATALOG_LISTINGS, DEALS_LEADS, DEALS_PARTNERS, DEALS_REGISTRATIONS

if TYPE_CHECKING:  # the protocol only: handlers receive their storage, they never build it
    from services.conflict.storage.uow import ConflictUnitOfWork

CLEARED_REASON = "No competing registration was found for this customer and product."
CLEARED_INACTIVE_REASON = ("Earlier registrations for this customer and product have ended, so they do not "
                           "compete with this one.")


log = structlog.get_logger(__name__)


class NotFound(Exception):
    pass


# --- Verdicts ------------------------------------------------------------------------------------------


def on_deal_submitted(event: CloudEvent, *, uow: ConflictUnitOfWork, detector: OverlapDetector,
                      rules: RulesOfEngagement,
                      now: dt.datetime | None = None) -> None:
    """Exactly one verdict per registration: registration.cleared, case.opened or case.updated."""
    registration = _submitted_registration(event)
    if uow.registrations.get(registration.deal_id) is not None:
        return  # already judged (a redelivery, or the same registration published twice)
    now = now or utcnow()
    uow.locks.acquire(detector.lock_keys(registration))
    findings = detector.find(registration, uow=uow)
    setup = territory_handlers.judge(registration, uow=uow, rules=rules)  # territories, named accounts (issue 18)
    rivals = [o for o in findings.overlaps if o.other.partner_id != registration.partner_id]
    own = [o for o in findings.overlaps if o.other.partner_id == registration.partner_id and o.band == "clear"]
    if setup.refusal:
        case = territory_handlers.refuse(registration, setup, uow=uow, rules=rules, now=now)
    elif rivals:
        case = _open_or_join(registration, rivals, uow=uow, rules=rules, now=now)
    elif own and rules.own_duplicate == "merge":
        case = _merge_own_duplicate(registration, own[0], uow=uow, rules=rules, now=now)
    elif own and rules.own_duplicate == "review":
        case = _open_or_join(registration, own, uow=uow, rules=rules, now=now, rule="auto_resolve.own_duplicate")
    elif setup.review_queue:
        case = territory_handlers.open_case(registration, setup, uow=uow, rules=rules, now=now)
    else:
        case = None
        _clear(registration, findings, own_ignored=bool(own), uow=uow)
    territory_handlers.record(setup, registration, case, uow=uow)
    registration.case_id = case.id if case else None
    uow.registrations.add(registration, keys=detector.blocking_keys(registration), recorded_at=now)
    detector.remember(registration)


def _submitted_registration(event: CloudEvent) -> TrackedRegistration:
    return TrackedRegistration.from_event({**event.data, "contact": contact_for_matching(event.data.get("contact"))})


def _clear(registration: TrackedRegistration, findings: Findings, *, own_ignored: bool,
           uow: ConflictUnitOfWork) -> None:
    evidence: dict[str, Any] = {}
    reason = CLEARED_REASON
    if findings.inactive:
        reason = CLEARED_INACTIVE_REASON
        evidence = {"rule": "auto_resolve.inactive_overlaps", "effect": "cleared: only ended registrations overlap",
                    "overlaps": [{"status": o.other.status, "score": o.score, "signals": o.evidence["signals"],
                                  "shared_products": o.evidence["shared_products"]} for o in findings.inactive]}
    elif own_ignored:
        evidence = {"rule": "auto_resolve.own_duplicate", "effect": "ignored: the partner's own duplicate"}
    if findings.weak:
        # Ambiguous pairs are said, not hidden: the verdict names the weak signals for anyone who reads it.
        evidence["weak_signals"] = [{"deal_id": o.other.deal_id, "score": o.score, "band": o.band,
                                     "signals": o.evidence["signals"],
                                     "shared_products": o.evidence["shared_products"]} for o in findings.weak]
    registration.clear(reason=reason, evidence=evidence)


def _open_or_join(registration: TrackedRegistration, overlaps: list[OverlappingRegistration], *,
                  uow: ConflictUnitOfWork, rules: RulesOfEngagement,
                  now: dt.datetime, rule: str | None = None) -> Case:
    """Join the oldest open case among the overlaps (so a third registration does not open another one)."""
    case_ids = dict.fromkeys(o.other.case_id for o in overlaps if o.other.case_id)
    open_cases = sorted((c for c in (uow.cases.get(i, for_update=True) for i in case_ids)
                         if c is not None and not c.is_decided), key=lambda c: (c.opened_at, c.id))
    evidence = [o.evidence for o in overlaps]
    if not open_cases:
        members = [o.other for o in overlaps] + [registration]
        routing = rules.route(_facts([m.summary() for m in members], overlaps), opened_at=now)
        review = [{"rule": rule, "effect": "review: the partner's own duplicate goes to the desk"}] if rule else []
        case = Case.open(registrations=members, evidence=evidence, queue=routing.queue, priority=routing.priority,
                         sla_due_at=routing.sla_due_at, recommendation=routing.recommendation,
                         rules_applied=review + routing.applied, rules_version=routing.rules_version, now=now)
        uow.cases.add(case)
        joined = [o.other for o in overlaps]
    else:
        case, younger = open_cases[0], open_cases[1:]
        # The new registration bridges every open case it overlaps: they merge into the oldest, which keeps its
        # id, queue and SLA clock (a registration is in one case at a time).
        joined = []
        for other_case in younger:
            case.absorb(other_case, now=now)
            uow.cases.save(other_case)
            joined.extend(uow.registrations.get_many(other_case.deal_ids).values())
        joined += [o.other for o in overlaps if o.other.deal_id not in case.deal_ids]
        for member in [o.other for o in overlaps if o.other.deal_id not in case.deal_ids] + [registration]:
            case.join(member, [e for e in evidence if member.deal_id in e["deal_ids"]], now=now)
        # The queue and SLA clock stay as opened; the recommendation now weighs every registration.
        case.recommendation = rules.route(_facts(case.registrations, overlaps), opened_at=case.opened_at).recommendation
        uow.cases.save(case)
    for other in joined:
        other.case_id = case.id
        uow.registrations.save(other)
    return case


def _merge_own_duplicate(registration: TrackedRegistration, original: OverlappingRegistration, *,
                         uow: ConflictUnitOfWork, rules: RulesOfEngagement,
                         now: dt.datetime) -> Case:
    """A partner's clear duplicate of its own registration: recorded as a case that the rules resolve at once."""
    rule = "auto_resolve.own_duplicate"
    case = Case.open(registrations=[original.other, registration], evidence=[original.evidence], queue="auto-resolved",
                     priority="low", sla_due_at=now, recommendation=None,
                     rules_applied=[{"rule": rule, "effect": f"merged {registration.deal_id} into "
                                                             f"{original.other.deal_id}"}],
                     rules_version=rules.version, now=now)
    case.merge_own_duplicate(duplicate_id=registration.deal_id, original_id=original.other.deal_id, rule=rule, now=now)
    uow.cases.add(case)
    return case


def _facts(registrations: list[dict[str, Any]], overlaps: list[OverlappingRegistration]) -> CaseFacts:
    band = "clear" if any(o.band == "clear" for o in overlaps) else "possible"
    return CaseFacts(registrations=tuple(registrations), customer_domains=customer_domains(registrations), band=band)



def on_deal_changed(event: CloudEvent, *, uow: ConflictUnitOfWork, detector: OverlapDetector,
                    rules: RulesOfEngagement) -> None:
    """Keep each tracked registration's status current; ended ones leave the index and stop competing.

    A registration whose customer or products were amended comes back as `submitted` with `recheck`: it is
    judged again from scratch and gets exactly one new verdict.
    """
    status = event.data["status"]
    if event.data.get("recheck") and status == "submitted":
        registration = uow.registrations.get(event.data["id"])
        if registration is not None and registration.case_id is None:
            uow.registrations.remove(registration.deal_id)
            detector.forget(registration.deal_id)
            on_deal_submitted(event, uow=uow, detector=detector, rules=rules)
            return
    # Kept current even between active statuses: a case opened later shows the member's real status, e.g.
    # "approved" for the registration that came first. One UPDATE, no read: this runs for every verdict's echo.
    tracked = uow.registrations.set_status(event.data["id"], status)
    if tracked is None:
        return
    changed, case_id = tracked
    if case_id is not None:
        _note_in_case(event.data["id"], case_id, status, uow=uow)
    if changed and status not in ACTIVE_DEAL_STATUSES:
        detector.forget(event.data["id"])


def _note_in_case(deal_id: str, case_id: str, status: str, *, uow: ConflictUnitOfWork) -> None:
    """The registration's case shows its current status; an ending may leave the case moot."""
    case = uow.cases.get(case_id, for_update=True)
    if case is None:
        return
    version = case.version
    case.note_status(deal_id, status)
    if case.version != version:
        uow.cases.save(case)


def on_deal_erased(event: CloudEvent, *, uow: ConflictUnitOfWork, detector: OverlapDetector) -> None:
    """deals erased a registration's personal data: the tracked registration drops its contact (the e-mail's
    domain), is filed under the keys it has left and re-indexed. Case member summaries never hold a contact; a
    case's evidence, the record of why it was opened, stays as it is. The audit trail is deals' history."""
    registration = uow.registrations.get(event.data["id"])
    if registration is None or not registration.erase_contact():
        return
    uow.registrations.save(registration)
    uow.registrations.refile(registration.deal_id, detector.blocking_keys(registration))
    detector.remember(registration)
    log.info("registration.contact_erased", deal_id=registration.deal_id)


def on_listing_changed(event: CloudEvent, *, uow: ConflictUnitOfWork) -> None:
    """The catalog read model: a case names its products by the listings' titles."""
    uow.listing_titles.upsert(event.data)


# What the conflict consumer subscribes to: the one list the worker, the lag metrics and the tests share.
CONSUMED_TOPICS = (DEALS_REGISTRATIONS, CATALOG_LISTINGS, DEALS_PARTNERS, DEALS_LEADS)


def batch_locks(detector: OverlapDetector):
    """Before a batch of events is applied in one transaction: every verdict's locks at once, in one order.

    Each verdict also takes its own (advisory locks are re-entrant, so that costs nothing more); taken event by
    event, two consumers' batches could each hold a key the other waits for, and PostgreSQL would abort one.
    """
    def acquire(events: list[CloudEvent], uow: ConflictUnitOfWork) -> None:
        keys = [key for event in events if event.type == "deal.submitted"
                for key in detector.lock_keys(_submitted_registration(event))]
        uow.locks.acquire(keys)
    return acquire


def consumer_handlers(*, detector: OverlapDetector, rules: RulesOfEngagement) -> dict:
    changed = lambda event, *, uow: on_deal_changed(event, uow=uow, detector=detector, rules=rules)  # noqa: E731
    return {
        "deal.submitted": lambda event, *, uow: on_deal_submitted(event, uow=uow, detector=detector, rules=rules),
        "deal.erased": lambda event, *, uow: on_deal_erased(event, uow=uow, detector=detector),
        "listing.published": on_listing_changed,
        "listing.updated": on_listing_changed,
        "listing.retired": on_listing_changed,
        "partner.updated": territory_handlers.on_partner_changed,
        **dict.fromkeys(territory_handlers.LEAD_EVENTS, territory_handlers.on_lead_changed),
        **{event_type: changed for event_type in ("deal.approved", "deal.updated", "deal.rejected", "deal.withdrawn",
                                                   "deal.expired", "deal.closed")},
    }


# --- The desk ------------------------------------------------------------------------------------------


def present(cases: list[Case], *, uow: ConflictUnitOfWork) -> list[dict[str, Any]]:
    """Cases as the desk reads them: each registration's products as {id, title} (title None until known)."""
    with uow:
        titles = uow.listing_titles.titles(p for case in cases for r in case.registrations for p in r["products"])
    documents = []
    for case in cases:
        document = case.to_dict()
        document["registrations"] = [
            {**r, "products": [{"id": p, "title": titles.get(p)} for p in r["products"]]}
            for r in document["registrations"]]
        documents.append(document)
    return documents


def get_case(case_id: str, *, uow: ConflictUnitOfWork) -> Case:
    with uow:
        case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(case_id)
    return case


def list_cases(*, uow: ConflictUnitOfWork, queue: str | None, statuses: list[str], limit: int,
               after: tuple[dt.datetime, str] | None = None) -> list[Case]:
    """Oldest first (by opening, then id), so that a desk working down a queue meets the longest-waiting case."""
    with uow:
        return uow.cases.list(queue=queue, statuses=statuses, limit=limit, after=after)


def queue_overview(*, uow: ConflictUnitOfWork, rules: RulesOfEngagement,
                   now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every queue the rules can route to (even when empty), and any other queue that holds cases."""
    now = now or utcnow()
    with uow:
        stats = {row["queue"]: row for row in uow.cases.queue_stats(now)}
    names = list(dict.fromkeys([rules.defaults["queue"]] + [r.then["queue"] for r in rules.rules if "queue" in r.then]
                               + sorted(stats)))
    overview = []
    for name in names:
        row = stats.get(name) or {}
        oldest = row.get("oldest_open_at")
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
        overview.append({"name": name, "open": int(row.get("open") or 0), "claimed": int(row.get("claimed") or 0),
                         "oldest_open_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
                         "sla_breached": int(row.get("sla_breached") or 0)})
    return overview


def claim_case(case_id: str, *, by: str, uow: ConflictUnitOfWork) -> Case:
    return _change(case_id, uow, lambda case: case.claim(by=by))


def resolve_case(case_id: str, *, decision: str, winner: str | None, note: str, by: str,
                 uow: ConflictUnitOfWork) -> Case:
    return _change(case_id, uow, lambda case: case.resolve(decision=decision, winner=winner, note=note, by=by))


def _change(case_id: str, uow: ConflictUnitOfWork, change) -> Case:
    with uow:
        case = uow.cases.get(case_id, for_update=True)
        if case is None:
            raise NotFound(case_id)
        change(case)
        if case.events:
            uow.cases.save(case)
            uow.commit()
        return case


__all__ = ["CONSUMED_TOPICS", "DomainError", "NotFound", "claim_case", "consumer_handlers", "get_case", "list_cases",
           "on_deal_changed", "on_deal_submitted", "on_listing_changed", "present", "queue_overview", "resolve_case"]
