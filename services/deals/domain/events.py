"""Deals events as they travel on deals.registrations.v1, keyed by deal id."""
from __future__ import annotations

from typing import Any

from services.deals.domain.model import Registration
from shared.events import CloudEvent
from shared.topics import DEALS_REGISTRATIONS

SOURCE = "/dealgate/deals"


def registration_event(event_type: str, registration: Registration,
                       extra_data: dict[str, Any] | None = None) -> CloudEvent:
    """The full public registration as data; `extra_data` adds fields such as `recheck` (never removes any)."""
    data = registration.public_dict()
    data.update(extra_data or {})
    return CloudEvent(type=event_type, source=SOURCE, subject=registration.id, data=data)


def new_events(registration: Registration) -> list[tuple[str, CloudEvent]]:
    """What the registration recorded, as messages; called by the unit of work at commit."""
    recorded, registration.events = registration.events, []
    return [(DEALS_REGISTRATIONS, registration_event(event_type, registration, extra_data))
            for event_type, extra_data in recorded]
