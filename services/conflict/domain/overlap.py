"""Which tracked registrations overlap a new one: same customer, a shared product, both active, other partner."""
from __future__ import annotations

import dataclasses
from typing import Any

from services.conflict.domain.model import TrackedRegistration


@dataclasses.dataclass
class Overlap:
    other: TrackedRegistration
    evidence: dict[str, Any]


def _domain_key(registration: TrackedRegistration) -> str | None:
    domain = (registration.customer.get("domain") or "").strip().lower()
    for prefix in ("https://", "http://", "www."):
        domain = domain.removeprefix(prefix)
    return domain.split("/")[0] or None


def _name_key(registration: TrackedRegistration) -> str:
    return " ".join("".join(c for c in registration.customer["name"].casefold() if c.isalnum() or c == " ").split())


class ExactKeyMatcher:
    """The walking skeleton's matcher: the same domain, or the same folded name in the same country.

    It scans the active registrations, so it only serves small data; the blocking-key index replaces it.
    """

    def find_overlaps(self, registration: TrackedRegistration, *, uow) -> list[Overlap]:
        overlaps = []
        for other in uow.registrations.all_active():
            if other.deal_id == registration.deal_id or other.partner_id == registration.partner_id:
                continue
            shared = sorted(set(other.products) & set(registration.products))
            if not shared:
                continue
            signals = []
            if _domain_key(registration) and _domain_key(registration) == _domain_key(other):
                signals.append({"kind": "domain", "value": _domain_key(registration)})
            if (_name_key(registration) == _name_key(other)
                    and registration.customer.get("country") == other.customer.get("country")):
                signals.append({"kind": "name", "value": _name_key(registration)})
            if signals:
                overlaps.append(Overlap(other, {"deal_ids": [other.deal_id, registration.deal_id], "score": 1.0,
                                                "signals": signals, "shared_products": shared}))
        return overlaps
