"""Deals events as they travel on deals.registrations.v1, keyed by deal id."""
from __future__ import annotations

from services.deals.domain.model import Registration
from shared.events import CloudEvent

SOURCE = "/dealgate/deals"


def registration_event(event_type: str, registration: Registration) -> CloudEvent:
    data = registration.to_dict()
    data.pop("_submitted_by", None)
    return CloudEvent(type=event_type, source=SOURCE, subject=registration.id, data=data)
