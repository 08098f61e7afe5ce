"""Conflict cases: the registrations that overlap, the evidence, and the desk's decision. Standard library only."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from shared.clock import iso as iso  # re-exported for the service
from shared.clock import parse_iso as parse_iso
from shared.clock import utcnow as utcnow

ACTIVE_DEAL_STATUSES = ("submitted", "approved", "in_conflict")
CASE_STATUSES = ("open", "claimed", "resolved")
DECISIONS = ("award", "reject_all", "dismiss")
INACTIVE_DEAL_STATUSES = ("withdrawn", "expired", "lost", "rejected", "won")
ENGINE = "conflict-engine"


class DomainError(Exception):
    pass



@dataclasses.dataclass
class TrackedRegistration:
    """What conflict keeps of a deal registration (from deals.registrations.v1)."""
    deal_id: str
    partner_id: str
    channel: str
    customer: dict[str, Any]
    contact: dict[str, Any] | None
    products: list[str]
    amount: dict[str, str]
    submitted_at: str
    status: str = "submitted"
    case_id: str | None = None
    # (event type, data) pairs: the verdict "registration.cleared", when nothing competes with it.
    events: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_DEAL_STATUSES

    def erase_contact(self) -> bool:
        """deals erased the registration's personal data: what conflict keeps of the contact goes too, the e-mail's
        domain included (it may be the person's own). False when there was nothing to erase."""
        if self.contact is None:
            return False
        self.contact = None
        return True

    def clear(self, *, reason: str, evidence: dict[str, Any]) -> None:
        """The verdict for a registration that nothing active competes with."""
        self.events.append(("registration.cleared", {"reason": reason, "evidence": evidence}))

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> TrackedRegistration:
        """From a deals event. Of the contact only `email_domain` is kept (conflict.matching.contact_for_matching
        derives it from the older events that carried the whole contact): no name or address is stored here."""
        contact = data.get("contact")
        return cls(deal_id=data["id"], partner_id=data["partner_id"], channel=data["channel"],
                   customer=data["customer"],
                   contact={"email_domain": contact.get("email_domain")} if isinstance(contact, dict) else None,
                   products=list(data["products"]), amount=data["amount"], submitted_at=data["submitted_at"],
                   status=data["status"])

    def to_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "events"}

    def summary(self) -> dict[str, Any]:
        return {"deal_id": self.deal_id, "partner_id": self.partner_id, "channel": self.channel,
                "customer": self.customer, "products": list(self.products), "amount": self.amount,
                "submitted_at": self.submitted_at, "status": self.status}


@dataclasses.dataclass
class Case:
    id: str
    queue: str
    priority: str
    status: str
    sla_due_at: dt.datetime
    opened_at: dt.datetime
    registrations: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    recommendation: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None
    claimed_by: str | None = None
    rules_applied: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    rules_version: int | None = None
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    version: int = 1
    # (event type, the deal ids of the members the change touched): what goes on the topic is the case's summary
    # and those members (services/conflict/domain/events.py), so an event stays small however large the case.
    events: list[tuple[str, list[str]]] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(cls, *, registrations: list[TrackedRegistration], evidence: list[dict[str, Any]], queue: str,
             priority: str, sla_due_at: dt.datetime, recommendation: dict[str, Any] | None = None,
             rules_applied: list[dict[str, Any]] | None = None, rules_version: int | None = None,
             now: dt.datetime | None = None) -> Case:
        now = now or utcnow()
        case = cls(id=str(uuid.uuid4()), queue=queue, priority=priority, status="open", sla_due_at=sla_due_at,
                   opened_at=now, registrations=[r.summary() for r in registrations], evidence=list(evidence),
                   recommendation=recommendation, rules_applied=list(rules_applied or []),
                   rules_version=rules_version)
        case.history.append({"at": iso(now), "action": "opened", "by": ENGINE,
                             "note": f"{len(registrations)} overlapping registrations"})
        case.events.append(("case.opened", case.deal_ids))
        return case

    @property
    def deal_ids(self) -> list[str]:
        return [r["deal_id"] for r in self.registrations]

    @property
    def is_decided(self) -> bool:
        return self.status == "resolved"

    def sla_breached(self, now: dt.datetime | None = None) -> bool:
        return not self.is_decided and (now or utcnow()) > self.sla_due_at

    def join(self, registration: TrackedRegistration, evidence: list[dict[str, Any]], *,
             now: dt.datetime | None = None) -> None:
        """A further overlapping registration joins; the queue and the SLA clock stay as they were."""
        if self.is_decided:
            raise DomainError("A resolved case cannot take new registrations.")
        if registration.deal_id in self.deal_ids:
            return
        self.registrations.append(registration.summary())
        self.evidence.extend(evidence)
        self.version += 1
        self.history.append({"at": iso(now or utcnow()), "action": "joined", "by": ENGINE,
                             "deal_id": registration.deal_id, "note": "another overlapping registration joined"})
        self.events.append(("case.updated", [registration.deal_id]))

    def active_partners(self) -> set[str]:
        """The partners whose registrations in the case still compete (a member without a status is active)."""
        return {r["partner_id"] for r in self.registrations
                if r.get("status", "submitted") in ACTIVE_DEAL_STATUSES}

    def note_status(self, deal_id: str, status: str, *, now: dt.datetime | None = None) -> None:
        """A member registration's status changed in deals; an ending is news for the desk, and may end the case.

        A move between active statuses (in review, approved by this case's decision) only keeps the member's
        status current. An ending outside a decision goes into the history; when fewer than two partners still
        compete, the case resolves itself as moot and the registrations left carry on as if cleared.
        """
        member = next((r for r in self.registrations if r["deal_id"] == deal_id), None)
        if member is None or member.get("status") == status:
            return
        member["status"] = status
        self.version += 1
        if status in ACTIVE_DEAL_STATUSES or self.is_decided:
            return
        now = now or utcnow()
        self.history.append({"at": iso(now), "action": "registration_ended", "by": ENGINE, "deal_id": deal_id,
                             "status": status, "note": f"registration {deal_id} is {status} in deals"})
        self.events.append(("case.updated", [deal_id]))
        if len(self.active_partners()) < 2:
            self._resolve_moot(ended=status, now=now)

    def _resolve_moot(self, *, ended: str, now: dt.datetime) -> None:
        remaining = [r["deal_id"] for r in self.registrations if r.get("status", "submitted") in ACTIVE_DEAL_STATUSES]
        outcomes = {deal_id: {"status": "approved",
                              "reason": "The registrations that competed with yours have ended, so nothing competes "
                                        "with it any more; it is approved."} for deal_id in remaining}
        note = (f"Fewer than two partners still compete: the last change was a registration {ended}; "
                f"{len(remaining)} active registration(s) left, approved as if cleared.")
        self._decide(decision="moot", winner=None, note=note, by="rules:auto_resolve.moot", outcomes=outcomes,
                     now=now)

    def absorb(self, other: Case, *, now: dt.datetime | None = None) -> None:
        """Merge `other` (a younger open case that a new registration bridges to this one) into this case.

        This case keeps its id, queue and SLA clock and takes the other's members, evidence and history; the
        other resolves as merged into this one.
        """
        if self.is_decided or other.is_decided:
            raise DomainError("Only open cases merge.")
        now = now or utcnow()
        taken = [member["deal_id"] for member in other.registrations if member["deal_id"] not in self.deal_ids]
        for member in other.registrations:
            if member["deal_id"] in taken:
                self.registrations.append(member)
        self.evidence.extend(e for e in other.evidence if e not in self.evidence)
        # One timeline: ISO 8601 UTC stamps of one format sort as text; the other's entries say where they came from.
        self.history = sorted(self.history + [{**entry, "from_case": other.id} for entry in other.history],
                              key=lambda entry: entry["at"])
        self.history.append({"at": iso(now), "action": "merged", "by": ENGINE, "case_id": other.id,
                             "note": f"case {other.id} merged into this one: a registration overlaps both"})
        self.version += 1
        self.events.append(("case.updated", taken))
        other._decide(decision="merged", winner=None, note=f"merged into case {self.id}", by=ENGINE, outcomes={},
                      now=now, merged_into=self.id)

    def claim(self, *, by: str, now: dt.datetime | None = None) -> None:
        if self.is_decided:
            raise DomainError("The case is already resolved.")
        if self.status == "claimed":
            if self.claimed_by == by:
                return  # claiming again is a no-op, so a retried click does no harm
            raise DomainError(f"The case is already claimed by {self.claimed_by}.")
        self.status, self.claimed_by = "claimed", by
        self.version += 1
        self.history.append({"at": iso(now or utcnow()), "action": "claimed", "by": by})
        self.events.append(("case.updated", []))

    def resolve(self, *, decision: str, winner: str | None, note: str, by: str,
                now: dt.datetime | None = None) -> None:
        if self.is_decided:
            raise DomainError("The case is already resolved.")
        if decision not in DECISIONS:
            raise DomainError(f"The decision must be one of {', '.join(DECISIONS)}.")
        if decision == "award" and winner not in self.deal_ids:
            raise DomainError("An award needs a winner that is one of the case's registrations.")
        if decision != "award" and winner:
            raise DomainError("Only an award names a winner.")
        # Partners read these reasons: they say what happened, never who else claimed the customer, so the
        # desk's own note (which may name the competitor) stays in the case and is not copied here.
        outcomes = {}
        for deal_id in self.deal_ids:
            if decision == "dismiss":
                outcomes[deal_id] = {"status": "approved",
                                     "reason": "The channel desk found no conflict; your registration is approved."}
            elif decision == "award" and deal_id == winner:
                outcomes[deal_id] = {"status": "approved",
                                     "reason": "The channel desk reviewed competing registrations and awarded "
                                               "this one to you."}
            else:
                outcomes[deal_id] = {"status": "rejected",
                                     "reason": "The channel desk reviewed competing registrations for this "
                                               "customer and product and awarded the opportunity elsewhere."}
        self._decide(decision=decision, winner=winner, note=note, by=by, outcomes=outcomes, now=now)

    def merge_own_duplicate(self, *, duplicate_id: str, original_id: str, rule: str,
                            now: dt.datetime | None = None) -> None:
        """Auto-resolution of a partner's second registration for a customer and product it already holds."""
        outcomes = {duplicate_id: {
            "status": "rejected",
            "reason": f"You already registered this customer and product as {original_id}; this duplicate was "
                      "merged into it."}}
        self._decide(decision="merge", winner=original_id, note=f"own duplicate merged by rule {rule}",
                     by=f"rules:{rule}", outcomes=outcomes, now=now)

    def reject_by_rule(self, deal_id: str, *, rule: str, reason: str, note: str,
                       now: dt.datetime | None = None) -> None:
        """A rule of engagement refuses the registration (a named account, a partner outside its countries);
        `reason` is what the partner reads, naming no one."""
        self._decide(decision="rejected_by_rule", winner=None, note=note, by=f"rules:{rule}",
                     outcomes={deal_id: {"status": "rejected", "reason": reason}}, now=now)

    def _decide(self, *, decision: str, winner: str | None, note: str, by: str, outcomes: dict[str, Any],
                now: dt.datetime | None, merged_into: str | None = None) -> None:
        now = now or utcnow()
        self.status = "resolved"
        self.resolution = {"decision": decision, "winner": winner, "note": note, "decided_by": by,
                           "decided_at": iso(now), "outcomes": outcomes}
        if merged_into:
            self.resolution["merged_into"] = merged_into
        self.version += 1
        self.history.append({"at": iso(now), "action": "resolved", "by": by, "note": note, "decision": decision})
        self.events.append(("case.resolved", list(outcomes)))

    def to_dict(self, now: dt.datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id, "queue": self.queue, "priority": self.priority, "status": self.status,
            "sla_due_at": iso(self.sla_due_at), "sla_breached": self.sla_breached(now),
            "opened_at": iso(self.opened_at), "registrations": self.registrations, "evidence": self.evidence,
            "recommendation": self.recommendation, "resolution": self.resolution, "claimed_by": self.claimed_by,
            "rules_applied": self.rules_applied, "rules_version": self.rules_version, "history": self.history,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        return cls(id=d["id"], queue=d["queue"], priority=d["priority"], status=d["status"],
                   sla_due_at=parse_iso(d["sla_due_at"]), opened_at=parse_iso(d["opened_at"]),
                   registrations=d["registrations"], evidence=d["evidence"], recommendation=d.get("recommendation"),
                   resolution=d.get("resolution"), claimed_by=d.get("claimed_by"),
                   rules_applied=d.get("rules_applied", []), rules_version=d.get("rules_version"),
                   history=d.get("history", []), version=d["version"])
