"""Deals events as they travel on deals.registrations.v1, keyed by deal id."""
from __future__ import annotations

from services.deals.domain.model import Registration
from shared.events import CloudEvent

SOURCE = "/dealgate/deals"


def registration_event(event_type: str, registration: Registration, extra_data: dict | None = None) -> CloudEvent:
    """The full public registration as data; `extra_data` adds fields such as `recheck` (never removes any)."""
    data = registration.public_dict()
    data.update(extra_data or {})
    return CloudEvent(type=event_type, source=SOURCE, subject=registration.id, data=data)
