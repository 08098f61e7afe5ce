"""Deals events as they travel on deals.registrations.v1, keyed by deal id.

An event carries what its consumer (conflict) needs and no personal data. Of the contact, conflict needs only the
registrable domain of the e-mail address, as one more hint of who the customer is: `contact` is
`{"email_domain": "acme.de"}` (null for free mail or no address), or null without a contact. The contact's name
and address, the notes, the opportunity name and the partner-facing reasons and history stay in deals. The
customer (company name, domain, country, identifiers) is business data and travels whole.
"""
from __future__ import annotations

from typing import Any

from services.deals.domain.lead_events import setup_events
from services.deals.domain.leads import Lead
from services.deals.domain.model import Registration
from services.deals.domain.partners import PartnerProfile
from shared.events import CloudEvent
from shared.identity import registrable_domain
from shared.topics import DEALS_REGISTRATIONS

SOURCE = "/dealgate/deals"
# The registration's fields that go on the topic (besides `contact`, reduced to its e-mail domain).
EVENT_FIELDS = ("id", "status", "version", "partner_id", "channel", "customer", "products", "amount",
                "expected_close", "submitted_at", "protection_until", "case_ref", "source")


def event_contact(contact: dict[str, Any] | None) -> dict[str, str | None] | None:
    """All of a contact that leaves deals: the registrable domain of its e-mail (None for free mail)."""
    if not contact:
        return None
    email = contact.get("email")
    return {"email_domain": registrable_domain(email) if isinstance(email, str) else None}


def registration_event(event_type: str, registration: Registration,
                       extra_data: dict[str, Any] | None = None) -> CloudEvent:
    """The registration's business facts as data; `extra_data` adds fields such as `recheck`."""
    document = registration.public_dict()
    data = {name: document[name] for name in EVENT_FIELDS}
    data["contact"] = event_contact(registration.contact)
    data.update(extra_data or {})
    return CloudEvent(type=event_type, source=SOURCE, subject=registration.id, data=data)


def new_events(registration: Registration | PartnerProfile | Lead) -> list[tuple[str, CloudEvent]]:
    """What the registration recorded, as messages; called by the unit of work at commit."""
    if not isinstance(registration, Registration):
        return setup_events(registration)  # partner profiles and leads (domain/lead_events.py)
    recorded, registration.events = registration.events, []
    return [(DEALS_REGISTRATIONS, registration_event(event_type, registration, extra_data))
            for event_type, extra_data in recorded]
