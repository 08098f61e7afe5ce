"""A deal registration and its lifecycle; every transition carries a reason written for the partner."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from shared.clock import iso as iso  # re-exported for the service
from shared.clock import parse_iso as parse_iso
from shared.clock import utcnow as utcnow

ACTIVE_STATUSES = ("submitted", "approved", "in_conflict")
FINAL_STATUSES = ("rejected", "withdrawn", "expired", "won", "lost")
STATUSES = ACTIVE_STATUSES + FINAL_STATUSES
# What conflict detection judges: changing these on an approved registration sends it back for a new verdict.
MATCHED_FIELDS = ("customer", "products")
EDITABLE_FIELDS = MATCHED_FIELDS + ("contact", "amount", "expected_close", "opportunity_name", "notes")
# Personal data in a registration: the contact person (name and e-mail address) and the notes (free text in which
# partners name people). What `erase` redacts. The customer (company name, web domain, country, tax id, DUNS), the
# opportunity name, products, amounts and dates are business data, and so are partner ids and token subjects.
PERSONAL_FIELDS = ("contact", "notes")


class DomainError(Exception):
    """A lifecycle rule was broken; the message is written for the partner."""


class InvalidTransition(DomainError):
    pass



@dataclasses.dataclass
class StatusChange:
    """An entry of the history: a status change, or an erasure (which keeps the status and says who erased
    which fields, never what they held)."""

    status: str
    reason: str
    at: dt.datetime
    by: str | None = None
    erased: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"status": self.status, "reason": self.reason, "at": iso(self.at)}
        if self.by is not None:
            document["by"] = self.by
        if self.erased is not None:
            document["erased"] = list(self.erased)
        return document

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StatusChange:
        return cls(d["status"], d["reason"], parse_iso(d["at"]), by=d.get("by"), erased=d.get("erased"))


def redacted(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of a registration's document (the API's, or an event's data) without its personal data."""
    return {**document, **{name: None for name in PERSONAL_FIELDS if document.get(name) is not None}}


@dataclasses.dataclass
class Registration:
    id: str
    partner_id: str
    channel: str
    submitted_by: str
    customer: dict[str, Any]
    contact: dict[str, Any] | None
    products: list[str]
    amount: dict[str, str]
    expected_close: str
    opportunity_name: str | None
    notes: str | None
    submitted_at: dt.datetime
    status: str = "submitted"
    reason: str = "Received; checking for competing registrations."
    protection_until: dt.datetime | None = None
    case_ref: str | None = None
    extensions_used: int = 0
    version: int = 1
    # "partner" (registered by the partner) or "vendor_lead" (a vendor lead it accepted, `lead_id`; issue 18).
    source: str = "partner"
    lead_id: str | None = None
    history: list[StatusChange] = dataclasses.field(default_factory=list)
    # (event type, extra data) pairs recorded by transitions, waiting to go to the outbox with the change.
    events: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def submit(cls, *, partner_id: str, channel: str, submitted_by: str, customer: dict[str, Any],
               products: list[str], amount: dict[str, Any], expected_close: str,
               contact: dict[str, Any] | None = None, opportunity_name: str | None = None,
               notes: str | None = None, now: dt.datetime | None = None) -> Registration:
        now = now or utcnow()
        registration = cls(id=str(uuid.uuid4()), partner_id=partner_id, channel=channel, submitted_by=submitted_by,
                           customer=customer, contact=contact, products=list(products), amount=amount,
                           expected_close=expected_close, opportunity_name=opportunity_name, notes=notes,
                           submitted_at=now)
        registration.history.append(StatusChange("submitted", registration.reason, now))
        registration.events.append(("deal.submitted", {}))
        return registration

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def _move(self, status: str, reason: str, event: str, now: dt.datetime | None = None,
              **extra_data: Any) -> None:
        now = now or utcnow()
        self.status, self.reason = status, reason
        self.version += 1
        self.history.append(StatusChange(status, reason, now))
        self.events.append((event, extra_data))

    def amend(self, changes: dict[str, Any], *, now: dt.datetime | None = None) -> None:
        """Edit the registration. New customer or products on an approved one go back through conflict detection.

        The recheck is announced as `deal.updated` with `data.recheck = true` and status `submitted`, not as a
        second `deal.submitted`: conflict keeps "exactly one verdict per submitted registration" keyed by the
        deal id, and the recheck asks for one more verdict for the same id.
        """
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise DomainError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
        if self.status == "in_conflict":
            raise InvalidTransition("This registration is being reviewed by the channel desk and cannot be edited "
                                    "until the desk decides.")
        if not self.is_active:
            raise InvalidTransition(f"A registration that is {self.status} cannot be edited.")
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not changed:
            return
        rechecks = any(name in MATCHED_FIELDS for name in changed)
        if rechecks and self.status == "submitted":
            raise InvalidTransition("The customer and products cannot change while the registration is being "
                                    "checked; try again once it has its verdict.")
        for name, value in changed.items():
            setattr(self, name, list(value) if name == "products" else value)
        if rechecks:
            self.protection_until = None
            self._move("submitted", "The customer or products changed; checking again for competing "
                                    "registrations.", "deal.updated", now, recheck=True)
        else:
            self.version += 1
            self.events.append(("deal.updated", {}))

    def approve(self, *, protection: dt.timedelta, reason: str, now: dt.datetime | None = None) -> None:
        if self.status not in ("submitted", "in_conflict"):
            raise InvalidTransition(f"A registration that is {self.status} cannot be approved.")
        now = now or utcnow()
        self.protection_until = now + protection
        self._move("approved", reason, "deal.approved", now)

    def enter_conflict(self, *, case_ref: str, reason: str, now: dt.datetime | None = None) -> None:
        if self.status != "submitted":
            raise InvalidTransition(f"A registration that is {self.status} cannot go into review.")
        self.case_ref = case_ref
        self._move("in_conflict", reason, "deal.updated", now)

    def follow_case(self, case_ref: str) -> None:
        """Its case merged into another: the registration stays in review, now under the surviving case."""
        if self.status != "in_conflict" or self.case_ref == case_ref:
            return
        self.case_ref = case_ref
        self.version += 1
        self.events.append(("deal.updated", {}))

    def reject(self, *, reason: str, now: dt.datetime | None = None) -> None:
        if self.status not in ("submitted", "in_conflict", "approved"):
            raise InvalidTransition(f"A registration that is {self.status} cannot be rejected.")
        self.protection_until = None
        self._move("rejected", reason, "deal.rejected", now)

    def withdraw(self, *, now: dt.datetime | None = None) -> None:
        if not self.is_active:
            raise InvalidTransition(f"A registration that is {self.status} cannot be withdrawn.")
        self.protection_until = None
        self._move("withdrawn", "Withdrawn at the partner's request.", "deal.withdrawn", now)

    def close(self, *, outcome: str, now: dt.datetime | None = None) -> None:
        if outcome not in ("won", "lost"):
            raise DomainError("The outcome must be won or lost.")
        if self.status != "approved":
            raise InvalidTransition(f"Only an approved registration can be closed; this one is {self.status}.")
        reason = "Closed as won." if outcome == "won" else "Closed as lost."
        self._move(outcome, reason, "deal.closed", now)

    def extend(self, *, by: dt.timedelta, max_extensions: int, window: dt.timedelta,
               now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        if self.status != "approved" or self.protection_until is None:
            raise InvalidTransition(f"Only an approved registration can be extended; this one is {self.status}.")
        if self.extensions_used >= max_extensions:
            raise InvalidTransition(f"This registration already used its {max_extensions} extension(s).")
        if self.protection_until - now > window:
            opens = self.protection_until - window
            raise InvalidTransition(f"Extensions can be requested from {iso(opens)}, in the last "
                                    f"{window.days} days of protection.")
        self.protection_until = self.protection_until + by
        self.extensions_used += 1
        self._move("approved", f"Protection extended until {iso(self.protection_until)}.", "deal.updated", now)

    def expire(self, *, now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        if self.status != "approved" or self.protection_until is None or self.protection_until > now:
            raise InvalidTransition("Only an approved registration past its protection can expire.")
        self._move("expired", "Protection ended without the deal being closed.", "deal.expired", now)

    def erase(self, *, by: str, now: dt.datetime | None = None) -> list[str]:
        """Redact the personal data (PERSONAL_FIELDS), in any status; returns the fields erased, [] when none was
        left. The history records who erased which fields when, never their values, and `deal.erased` tells
        conflict to redact its copy."""
        erased = [f"contact.{name}" for name, value in sorted((self.contact or {}).items()) if value]
        if self.contact and not erased:
            erased.append("contact")
        if self.notes:
            erased.append("notes")
        if not erased:
            return []
        now = now or utcnow()
        self.contact, self.notes = None, None
        self.version += 1
        self.history.append(StatusChange(self.status, f"Personal data erased: {', '.join(erased)}.", now, by=by,
                                         erased=erased))
        self.events.append(("deal.erased", {"erased": erased}))
        return erased

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "reason": self.reason, "partner_id": self.partner_id,
            "channel": self.channel, "customer": self.customer, "contact": self.contact,
            "products": list(self.products), "amount": self.amount, "expected_close": self.expected_close,
            "opportunity_name": self.opportunity_name, "notes": self.notes,
            "submitted_at": iso(self.submitted_at), "protection_until": iso(self.protection_until),
            "case_ref": self.case_ref, "extensions_used": self.extensions_used, "version": self.version,
            "source": self.source, "lead_id": self.lead_id,
            "history": [h.to_dict() for h in self.history],
            "_submitted_by": self.submitted_by,
        }

    def public_dict(self) -> dict[str, Any]:
        """What the partner, the desk and the events see: everything but internal bookkeeping."""
        document = self.to_dict()
        del document["_submitted_by"]
        return document

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Registration:
        return cls(id=d["id"], partner_id=d["partner_id"], channel=d["channel"], submitted_by=d["_submitted_by"],
                   customer=d["customer"], contact=d.get("contact"), products=list(d["products"]),
                   amount=d["amount"], expected_close=d["expected_close"], opportunity_name=d.get("opportunity_name"),
                   notes=d.get("notes"), submitted_at=parse_iso(d["submitted_at"]), status=d["status"],
                   reason=d["reason"], protection_until=parse_iso(d.get("protection_until")),
                   case_ref=d.get("case_ref"), extensions_used=d.get("extensions_used", 0), version=d["version"],
                   source=d.get("source", "partner"), lead_id=d.get("lead_id"),
                   history=[StatusChange.from_dict(h) for h in d["history"]])
