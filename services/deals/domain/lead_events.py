"""Partner profiles and leads as they travel: partner.updated on the compacted deals.partners.v1 (keyed by partner
id, the whole profile), and lead.* on deals.leads.v1 (keyed by lead id). A lead event carries the lead's business
facts and its assignments with the reasons for each; never the notes (free text that may name people)."""
from __future__ import annotations

from typing import Any

from services.deals.domain.leads import Lead
from services.deals.domain.partners import PartnerProfile
from shared.events import CloudEvent
from shared.topics import DEALS_LEADS, DEALS_PARTNERS

SOURCE = "/dealgate/deals"


def partner_event(profile: PartnerProfile) -> CloudEvent:
    return CloudEvent(type="partner.updated", source=SOURCE, subject=profile.partner_id, data=profile.to_dict())


def lead_event(event_type: str, lead: Lead, extra_data: dict[str, Any] | None = None) -> CloudEvent:
    document = lead.to_dict()
    last = lead.attempts[-1] if lead.attempts else None
    data = {name: document[name] for name in ("id", "status", "customer", "products", "created_at", "assignee",
                                              "due_at", "declines", "registration_id", "version", "desk_reason")}
    data["attempt"] = last.to_dict() if last else None
    # every assignment with its reasons and outcome, so that conflict's desk can show why a lead went where
    data["attempts"] = [attempt.to_dict() for attempt in lead.attempts]
    data.update(extra_data or {})
    return CloudEvent(type=event_type, source=SOURCE, subject=lead.id, data=data)


def setup_events(aggregate: PartnerProfile | Lead) -> list[tuple[str, CloudEvent]]:
    """What a partner profile or a lead recorded, as messages; called by the unit of work at commit."""
    if isinstance(aggregate, PartnerProfile):
        recorded, aggregate.events = aggregate.events, []
        return [(DEALS_PARTNERS, partner_event(aggregate)) for _ in recorded[-1:]]  # the latest state is the news
    changes, aggregate.events = aggregate.events, []
    return [(DEALS_LEADS, lead_event(event_type, aggregate, extra)) for event_type, extra in changes]
