"""A vendor-sourced lead and its passage from partner to partner until one accepts it or the desk takes it back.

A lead is `assigned` to one partner at a time, with a due time (its SLA) and the reasons it went there; the
partner accepts it (it becomes an approved, protected registration) or declines it with a reason; a lead not
accepted in time expires for that partner. Either way it goes to the next partner, or back to the desk's queue
(`unassigned`) after too many declines or when no partner is left. Every attempt stays in `attempts`.
Standard library only.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from shared.clock import iso, parse_iso, utcnow

STATUSES = ("assigned", "unassigned", "accepted")
OPEN_STATUSES = ("assigned",)
# Why a lead went where it went: a partner already holds the customer, a territory names it, the score, the desk.
BASES = ("holder", "named_account", "score", "desk")


class LeadError(Exception):
    """A lead cannot do this now; the message is written for the caller."""


@dataclasses.dataclass
class Attempt:
    partner_id: str
    basis: str
    assigned_at: dt.datetime
    due_at: dt.datetime
    score: float | None = None
    reasons: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    outcome: str | None = None  # accepted | declined | expired, None while open
    outcome_reason: str | None = None
    ended_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "basis": self.basis, "assigned_at": iso(self.assigned_at),
                "due_at": iso(self.due_at), "score": self.score, "reasons": self.reasons, "outcome": self.outcome,
                "outcome_reason": self.outcome_reason, "ended_at": iso(self.ended_at)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Attempt:
        return cls(partner_id=d["partner_id"], basis=d["basis"], assigned_at=_time(d["assigned_at"]),
                   due_at=_time(d["due_at"]), score=d.get("score"), reasons=list(d.get("reasons") or []),
                   outcome=d.get("outcome"), outcome_reason=d.get("outcome_reason"),
                   ended_at=parse_iso(d.get("ended_at")))


def _time(text: str) -> dt.datetime:
    parsed = parse_iso(text)
    if parsed is None:
        raise ValueError("a timestamp is required")
    return parsed


@dataclasses.dataclass
class Lead:
    id: str
    customer: dict[str, Any]
    products: list[str]
    notes: str | None
    created_by: str
    created_at: dt.datetime
    status: str = "unassigned"
    desk_reason: str | None = None
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    registration_id: str | None = None
    sla_hours: float | None = None  # this lead's own time to accept, else the setting's
    version: int = 1
    # (event type, extra data) pairs, published with the change by the unit of work (domain/lead_events.py).
    events: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, *, customer: dict[str, Any], products: list[str], notes: str | None, created_by: str,
               sla_hours: float | None = None, now: dt.datetime | None = None) -> Lead:
        lead = cls(id=str(uuid.uuid4()), customer=customer, products=list(products), notes=notes,
                   created_by=created_by, created_at=now or utcnow(), sla_hours=sla_hours)
        lead.events.append(("lead.created", {}))
        return lead

    @property
    def current(self) -> Attempt | None:
        """The open attempt: the partner holding the lead now."""
        return self.attempts[-1] if self.status == "assigned" and self.attempts else None

    @property
    def assignee(self) -> str | None:
        current = self.current
        return current.partner_id if current else None

    @property
    def declines(self) -> int:
        return sum(1 for a in self.attempts if a.outcome == "declined")

    @property
    def tried(self) -> set[str]:
        """Partners that had the lead and let it go: it does not go back to them."""
        return {a.partner_id for a in self.attempts if a.outcome in ("declined", "expired")}

    def assign(self, partner_id: str, *, basis: str, due_at: dt.datetime, score: float | None = None,
               reasons: list[dict[str, Any]] | None = None, now: dt.datetime | None = None) -> None:
        if self.status != "unassigned":
            raise LeadError(f"A lead that is {self.status} cannot be assigned.")
        if basis not in BASES:
            raise LeadError(f"Unknown basis {basis}.")
        now = now or utcnow()
        first = not self.attempts
        self.attempts.append(Attempt(partner_id=partner_id, basis=basis, assigned_at=now, due_at=due_at,
                                     score=score, reasons=list(reasons or [])))
        self.status, self.desk_reason = "assigned", None
        self.version += 1
        self.events.append(("lead.assigned" if first else "lead.reassigned", {"to": partner_id}))

    def return_to_desk(self, reason: str, *, now: dt.datetime | None = None) -> None:
        """No partner (left) for it: the lead waits in the desk's queue, which may assign it by hand."""
        self.status, self.desk_reason = "unassigned", reason
        self.version += 1
        self.events.append(("lead.reassigned", {"to": None, "queue": "desk", "reason": reason}))

    def accept(self, partner_id: str, *, registration_id: str, now: dt.datetime | None = None) -> None:
        current = self._current_of(partner_id)
        current.outcome, current.ended_at = "accepted", now or utcnow()
        self.status, self.registration_id = "accepted", registration_id
        self.version += 1
        self.events.append(("lead.accepted", {"registration_id": registration_id}))

    def decline(self, partner_id: str, *, reason: str, now: dt.datetime | None = None) -> None:
        current = self._current_of(partner_id)
        current.outcome, current.outcome_reason, current.ended_at = "declined", reason, now or utcnow()
        self.status = "unassigned"
        self.version += 1
        self.events.append(("lead.declined", {"by": partner_id, "reason": reason}))

    def expire(self, *, now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        current = self.current
        if current is None or current.due_at > now:
            raise LeadError("Only an assigned lead past its due time expires.")
        current.outcome, current.ended_at = "expired", now
        current.outcome_reason = "Not accepted within the time allowed."
        self.status = "unassigned"
        self.version += 1
        self.events.append(("lead.expired", {"from": current.partner_id}))

    def _current_of(self, partner_id: str) -> Attempt:
        current = self.current
        if current is None or current.partner_id != partner_id:
            raise LeadError(f"This lead is {self.status}; only the partner it is assigned to can answer it.")
        return current

    def to_dict(self) -> dict[str, Any]:
        current = self.current
        return {"id": self.id, "status": self.status, "customer": self.customer, "products": list(self.products),
                "notes": self.notes, "created_by": self.created_by, "created_at": iso(self.created_at),
                "assignee": self.assignee, "due_at": iso(current.due_at) if current else None,
                "desk_reason": self.desk_reason, "declines": self.declines,
                "attempts": [a.to_dict() for a in self.attempts], "registration_id": self.registration_id,
                "sla_hours": self.sla_hours, "version": self.version}

    def partner_view(self) -> dict[str, Any]:
        """What the partner holding it reads: its own attempt only; never which partners had it before."""
        document = self.to_dict()
        current = self.current or (self.attempts[-1] if self.status == "accepted" else None)
        document["attempts"] = [current.to_dict()] if current else []
        document["declines"] = None
        del document["created_by"]
        return document

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Lead:
        return cls(id=d["id"], customer=d["customer"], products=list(d["products"]), notes=d.get("notes"),
                   created_by=d["created_by"], created_at=_time(d["created_at"]), status=d["status"],
                   desk_reason=d.get("desk_reason"), attempts=[Attempt.from_dict(a) for a in d["attempts"]],
                   registration_id=d.get("registration_id"), sla_hours=d.get("sla_hours"),
                   version=int(d["version"]))
