"""A partner's profile: its tier, the countries and channels it sells in, and how many open leads it may hold.

The admin sets it (PUT /v1/partners/{id}); deals assigns leads with it, and publishes each change on the compacted
deals.partners.v1 so that conflict knows which partners exist and where each may sell.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from shared.clock import iso, parse_iso, utcnow

TIERS = ("registered", "silver", "gold", "platinum")
PARTNER_CHANNELS = ("reseller", "distributor", "msp", "marketplace")
PROFILE_FIELDS = ("tier", "countries", "channels", "lead_capacity")


@dataclasses.dataclass
class PartnerProfile:
    partner_id: str
    tier: str
    countries: list[str]
    channels: list[str]
    lead_capacity: int
    updated_at: dt.datetime
    updated_by: str
    version: int = 1
    events: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, partner_id: str, *, tier: str, countries: list[str], channels: list[str], lead_capacity: int,
               by: str, now: dt.datetime | None = None) -> PartnerProfile:
        profile = cls(partner_id=partner_id, tier=tier, countries=sorted(set(countries)),
                      channels=sorted(set(channels)), lead_capacity=lead_capacity, updated_at=now or utcnow(),
                      updated_by=by)
        profile.events.append("partner.updated")
        return profile

    def update(self, *, tier: str, countries: list[str], channels: list[str], lead_capacity: int, by: str,
               now: dt.datetime | None = None) -> bool:
        """Replace the profile; False (and no new version, no event) when nothing changed."""
        wanted = dict(tier=tier, countries=sorted(set(countries)), channels=sorted(set(channels)),
                      lead_capacity=lead_capacity)
        if all(getattr(self, name) == value for name, value in wanted.items()):
            return False
        for name, value in wanted.items():
            setattr(self, name, value)
        self.updated_at, self.updated_by = now or utcnow(), by
        self.version += 1
        self.events.append("partner.updated")
        return True

    def sells_in(self, country: str | None) -> bool:
        return bool(country) and str(country).upper() in self.countries

    def to_dict(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "tier": self.tier, "countries": list(self.countries),
                "channels": list(self.channels), "lead_capacity": self.lead_capacity,
                "updated_at": iso(self.updated_at), "updated_by": self.updated_by, "version": self.version}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PartnerProfile:
        return cls(partner_id=d["partner_id"], tier=d["tier"], countries=list(d["countries"]),
                   channels=list(d["channels"]), lead_capacity=int(d["lead_capacity"]),
                   updated_at=parse_iso(d["updated_at"]) or utcnow(), updated_by=d.get("updated_by", ""),
                   version=int(d["version"]))
