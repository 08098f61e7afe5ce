"""Partner profiles and vendor leads (issue 18): plain functions of (input, *, uow, ...), like handlers.py.

A new lead goes, in this order, to the partner that already holds an active registration for its customer, to the
owner of the territory naming the customer as an account, or to the best-scoring eligible partner
(domain/assignment.py); with none of those it waits in the desk's queue. A partner accepts it (an approved,
protected registration, `source: vendor_lead`) or declines it; the SLA job takes back the leads not accepted in
time. A declined or expired lead goes to the next partner; after `max_declines` declines, to the desk.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from services.deals.domain.assignment import (
    AssignmentPolicy,
    Candidate,
    named_account_owner,
    rank,
    territories_covering,
)
from services.deals.domain.leads import Lead, LeadError
from services.deals.domain.model import Registration, iso, utcnow
from services.deals.domain.partners import PartnerProfile
from services.deals.domain.policy import DealPolicy
from shared.auth import Principal
from shared.events import CloudEvent
from shared.identity import customer_keys, strong_match

if TYPE_CHECKING:
    from services.deals.storage.uow import DealsUnitOfWork

log = structlog.get_logger(__name__)
LEAD_CREATORS = ("admin", "sales")
DEFAULT_AMOUNT = {"amount": "0.00", "currency": "USD"}
# How far back a partner's time to accept and its last lead are read (the analytics' default window).
HISTORY = dt.timedelta(days=90)


class NotFound(Exception):
    pass


class InvalidLead(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The lead cannot be created.")
        self.errors = errors


# --- Partner profiles --------------------------------------------------------------------------------------


def put_partner(partner_id: str, fields: dict[str, Any], *, principal: Principal,
                uow: DealsUnitOfWork) -> tuple[PartnerProfile, bool]:
    """Create or replace a partner's profile; True when it was created."""
    with uow:
        profile = uow.partners.get(partner_id, for_update=True)
        if profile is None:
            profile = PartnerProfile.create(partner_id, by=principal.sub, **fields)
            uow.partners.add(profile)
            created = True
        else:
            created = False
            if profile.update(by=principal.sub, **fields):
                uow.partners.save(profile)
        uow.commit()
    return profile, created


def get_partner(partner_id: str, *, principal: Principal, uow: DealsUnitOfWork) -> PartnerProfile:
    """Admin and desk read any profile; a partner only its own (any other answers as one that does not exist)."""
    if not principal.sees_everything and principal.owner_key != partner_id:
        raise NotFound(partner_id)
    with uow:
        profile = uow.partners.get(partner_id)
    if profile is None:
        raise NotFound(partner_id)
    return profile


# --- Leads ---------------------------------------------------------------------------------------------------


def create_lead(customer: dict[str, Any], products: list[str], notes: str | None, *, principal: Principal,
                policy: AssignmentPolicy, uow: DealsUnitOfWork, sla_hours: float | None = None,
                now: dt.datetime | None = None) -> Lead:
    now = now or utcnow()
    with uow:
        known = uow.catalog.get_many(products)
        errors = {f"products.{i}": [f"{p} is not a published listing."] for i, p in enumerate(products)
                  if (known.get(p) or {}).get("status") != "published"}
        if errors:
            raise InvalidLead(errors)
        lead = Lead.create(customer=customer, products=products, notes=notes, created_by=principal.sub,
                           sla_hours=sla_hours, now=now)
        _assign_next(lead, uow=uow, policy=policy, now=now)
        uow.leads.add(lead)
        uow.commit()
    log.info("lead.created", lead_id=lead.id, assignee=lead.assignee,
             basis=lead.attempts[-1].basis if lead.attempts else "desk")
    return lead


def _assign_next(lead: Lead, *, uow: DealsUnitOfWork, policy: AssignmentPolicy, now: dt.datetime) -> None:
    """Give the lead to whoever should have it next, or to the desk's queue."""
    if lead.declines >= policy.max_declines:
        lead.return_to_desk(f"Declined {lead.declines} times; the desk decides where it goes.", now=now)
        return
    tried = lead.tried
    due = policy.due_at(now, lead.sla_hours)
    holder = _holder(lead.customer, uow=uow)
    if holder and holder not in tried:
        lead.assign(holder, basis="holder", due_at=due, now=now, reasons=[
            {"factor": "holder", "value": None, "points": None,
             "basis": "holds an active registration for this customer"}])
        return
    all_territories = uow.territories.all()
    named = named_account_owner(lead.customer, all_territories)
    if named and named["owner"] not in tried:
        lead.assign(named["owner"], basis="named_account", due_at=due, now=now, reasons=[
            {"factor": "named_account", "value": None, "points": None,
             "basis": f"territory {named['name']} names this customer as an account"}])
        return
    country = str(lead.customer.get("country") or "").upper()
    ranked = rank(_candidates(country, all_territories, uow=uow, now=now), country=country, tried=tried,
                  policy=policy)
    if not ranked:
        lead.return_to_desk("No partner with free capacity sells in this country.", now=now)
        return
    best = ranked[0]
    lead.assign(best.candidate.partner_id, basis="score", due_at=due, score=best.score, reasons=best.reasons,
                now=now)


def _holder(customer: dict[str, Any], *, uow: DealsUnitOfWork) -> str | None:
    """The partner whose approved registration (the earliest) is this customer beyond doubt. One still being
    checked or in review holds nothing yet: a named account's owner comes before it."""
    keys = customer_keys(customer)
    holding = [r for r in uow.registrations.competing(customer=customer, excluding_partner="")
               if r.status == "approved" and strong_match(keys, customer_keys(r.customer))]
    holding.sort(key=lambda r: (r.submitted_at, r.id))
    return holding[0].partner_id if holding else None


def _candidates(country: str, all_territories: list[dict[str, Any]], *, uow: DealsUnitOfWork,
                now: dt.datetime) -> list[Candidate]:
    open_counts = uow.leads.open_counts()
    accept_hours, last_assigned = uow.leads.history_by_partner(since=now - HISTORY)
    outcomes = uow.partner_records.outcomes()
    covering = territories_covering(country, all_territories) if country else {}
    return [Candidate(profile=profile, open_leads=open_counts.get(profile.partner_id, 0),
                      won=outcomes.get(profile.partner_id, (0, 0))[0], lost=outcomes.get(profile.partner_id, (0, 0))[1],
                      mean_hours_to_accept=accept_hours.get(profile.partner_id),
                      last_assigned_at=last_assigned.get(profile.partner_id),
                      territory=covering.get(profile.partner_id))
            for profile in uow.partners.all()]


def list_leads(*, principal: Principal, uow: DealsUnitOfWork, status: str | None = None,
               assignee: str | None = None, limit: int = 50,
               after: tuple[dt.datetime, str] | None = None) -> list[Lead]:
    """A partner sees the leads assigned to it now; admin, desk and sales see all (or one assignee's)."""
    if principal.role in ("partner", "marketplace"):
        assignee, status = principal.owner_key, "assigned" if status in (None, "assigned") else "-"
    with uow:
        return uow.leads.list(assignee=assignee, status=status, limit=limit, after=after)


def may_see(principal: Principal, lead: Lead) -> bool:
    if principal.role in ("admin", "desk", "sales"):
        return True
    return lead.assignee == principal.owner_key or (
        lead.status == "accepted" and bool(lead.attempts) and lead.attempts[-1].partner_id == principal.owner_key)


def view(lead: Lead, principal: Principal) -> dict[str, Any]:
    return lead.to_dict() if principal.role in ("admin", "desk", "sales") else lead.partner_view()


def get_lead(lead_id: str, *, principal: Principal, uow: DealsUnitOfWork) -> Lead:
    with uow:
        lead = uow.leads.get(lead_id)
    if lead is None or not may_see(principal, lead):
        raise NotFound(lead_id)
    return lead


def accept_lead(lead_id: str, terms: dict[str, Any], *, principal: Principal, deal_policy: DealPolicy,
                uow: DealsUnitOfWork, now: dt.datetime | None = None) -> tuple[Lead, Registration]:
    """The assignee takes the lead: it becomes an approved registration, protected like any cleared one and
    marked vendor-sourced (`source: vendor_lead`, `lead_id`)."""
    now = now or utcnow()
    with uow:
        lead = uow.leads.get(lead_id, for_update=True)
        if lead is None or not may_see(principal, lead):
            raise NotFound(lead_id)
        expected_close = terms.get("expected_close") or (now + deal_policy.protection).date().isoformat()
        registration = Registration.submit(partner_id=principal.owner_key,
                                           channel=principal.channel or "direct", submitted_by=principal.sub,
                                           customer=lead.customer, products=lead.products,
                                           amount=terms.get("amount") or dict(DEFAULT_AMOUNT),
                                           expected_close=expected_close,
                                           opportunity_name=terms.get("opportunity_name"), notes=lead.notes,
                                           now=now)
        lead.accept(principal.owner_key, registration_id=registration.id, now=now)
        registration.source, registration.lead_id = "vendor_lead", lead.id
        registration.approve(protection=deal_policy.protection, now=now,
                             reason="Accepted from a vendor lead: approved and protected.")
        uow.registrations.add(registration)
        uow.leads.save(lead)
        uow.commit()
    return lead, registration


def decline_lead(lead_id: str, reason: str, *, principal: Principal, policy: AssignmentPolicy,
                 uow: DealsUnitOfWork, now: dt.datetime | None = None) -> Lead:
    now = now or utcnow()
    with uow:
        lead = uow.leads.get(lead_id, for_update=True)
        if lead is None or not may_see(principal, lead):
            raise NotFound(lead_id)
        lead.decline(principal.owner_key, reason=reason, now=now)
        _assign_next(lead, uow=uow, policy=policy, now=now)
        uow.leads.save(lead)
        uow.commit()
    return lead


def assign_by_hand(lead_id: str, partner_id: str, *, principal: Principal, policy: AssignmentPolicy,
                   uow: DealsUnitOfWork, now: dt.datetime | None = None) -> Lead:
    """The desk gives a lead in its queue to a partner of its choosing (any partner with a profile, or direct)."""
    now = now or utcnow()
    with uow:
        lead = uow.leads.get(lead_id, for_update=True)
        if lead is None:
            raise NotFound(lead_id)
        if partner_id != "direct" and uow.partners.get(partner_id) is None:
            raise InvalidLead({"partner_id": [f"No partner profile {partner_id!r}."]})
        lead.assign(partner_id, basis="desk", due_at=policy.due_at(now, lead.sla_hours), now=now, reasons=[
            {"factor": "desk", "value": None, "points": None, "basis": f"assigned by {principal.sub}"}])
        uow.leads.save(lead)
        uow.commit()
    return lead


def reassign_overdue(*, uow_factory: Callable[[], DealsUnitOfWork], policy: AssignmentPolicy,
                     now: dt.datetime | None = None, limit: int = 200) -> int:
    """Leads not accepted within their SLA expire for their partner and go to the next one; one transaction each."""
    now = now or utcnow()
    with uow_factory() as uow:
        due = uow.leads.overdue(now, limit)
    moved = 0
    for lead_id in due:
        with uow_factory() as uow:
            lead = uow.leads.get(lead_id, for_update=True)
            if lead is None or lead.current is None or lead.current.due_at > now:
                continue  # answered meanwhile
            try:
                lead.expire(now=now)
            except LeadError:
                continue
            _assign_next(lead, uow=uow, policy=policy, now=now)
            uow.leads.save(lead)
            uow.commit()
            moved += 1
    return moved


# --- Analytics -------------------------------------------------------------------------------------------------


def lead_analytics(*, uow: DealsUnitOfWork) -> dict[str, Any]:
    """Leads by the assignee's channel and tier, acceptance rate and time to accept, over every lead."""
    with uow:
        leads = uow.leads.all()
        profiles = {p.partner_id: p for p in uow.partners.all()}
    groups: dict[str, dict[str, dict[str, int]]] = {"channel": {}, "tier": {}}
    hours: list[float] = []
    for lead in leads:
        for attempt in lead.attempts:
            profile = profiles.get(attempt.partner_id)
            labels = {"channel": (profile.channels[0] if profile and profile.channels else
                                  "direct" if attempt.partner_id == "direct" else "unknown"),
                      "tier": profile.tier if profile else "none"}
            for dimension, label in labels.items():
                row = groups[dimension].setdefault(label, {"assigned": 0, "accepted": 0, "declined": 0,
                                                           "expired": 0})
                row["assigned"] += 1
                if attempt.outcome in ("accepted", "declined", "expired"):
                    row[attempt.outcome] += 1
            if attempt.outcome == "accepted" and attempt.ended_at:
                hours.append((attempt.ended_at - attempt.assigned_at).total_seconds() / 3600)
    attempts = [a for lead in leads for a in lead.attempts]
    ended = [a for a in attempts if a.outcome]
    accepted_leads = sum(1 for lead in leads if lead.status == "accepted")
    return {
        "leads": len(leads),
        "by_status": {s: sum(1 for lead in leads if lead.status == s) for s in ("assigned", "unassigned", "accepted")},
        "by_basis": {b: sum(1 for a in attempts if a.basis == b) for b in ("holder", "named_account", "score")},
        "by_channel": groups["channel"], "by_tier": groups["tier"],
        "acceptance_rate": round(accepted_leads / len(leads), 4) if leads else None,
        "attempt_acceptance_rate": (round(sum(1 for a in ended if a.outcome == "accepted") / len(ended), 4)
                                    if ended else None),
        "reassignments": sum(max(len(lead.attempts) - 1, 0) for lead in leads),
        "time_to_accept_hours": {"mean": round(statistics.fmean(hours), 3) if hours else None,
                                 "median": round(statistics.median(hours), 3) if hours else None,
                                 "count": len(hours)},
    }


# --- Consumed events -------------------------------------------------------------------------------------------


def on_territory_changed(event: CloudEvent, *, uow: DealsUnitOfWork) -> None:
    """conflict's territories (conflicts.territories.v1): the read model leads are routed with."""
    uow.territories.upsert(event.data)


__all__ = ["accept_lead", "assign_by_hand", "create_lead", "decline_lead", "get_lead", "get_partner", "iso",
           "lead_analytics", "list_leads", "on_territory_changed", "put_partner", "reassign_overdue"]
