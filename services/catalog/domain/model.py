"""Listings and their offers, and the draft -> published -> retired lifecycle. Standard library only."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

CHANNELS = ("reseller", "distributor", "msp", "marketplace", "direct")
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
STATUSES = ("draft", "published", "retired")


class DomainError(Exception):
    """A rule of the catalog was broken; the message is written for the caller."""


class InvalidTransition(DomainError):
    pass


@dataclasses.dataclass
class Offer:
    id: str
    name: str
    channels: list[str]
    regions: list[str]
    pricing: dict[str, Any]
    visibility: str = "public"
    private_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Listing:
    id: str
    title: str
    summary: str
    vendor: str
    category: str
    tags: list[str]
    offers: list[Offer]
    status: str = "draft"
    version: int = 1
    created_at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    updated_at: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    events: list[tuple[str, "Listing"]] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def draft(cls, *, title: str, summary: str, vendor: str, category: str, tags: list[str],
              offers: list[dict[str, Any]]) -> "Listing":
        return cls(id=str(uuid.uuid4()), title=title, summary=summary, vendor=vendor, category=category,
                   tags=list(tags), offers=[_offer(o) for o in offers])

    def publish(self) -> None:
        if self.status == "published":
            raise InvalidTransition("The listing is already published.")
        if self.status == "retired":
            raise InvalidTransition("A retired listing cannot be published again.")
        if not self.offers:
            raise InvalidTransition("A listing needs at least one offer before it can be published.")
        self.status = "published"
        self._touch()
        self.events.append(("listing.published", self))

    def retire(self) -> None:
        if self.status == "retired":
            raise InvalidTransition("The listing is already retired.")
        was_published = self.status == "published"
        self.status = "retired"
        self._touch()
        if was_published:
            self.events.append(("listing.retired", self))

    def update(self, changes: dict[str, Any]) -> None:
        if self.status == "retired":
            raise InvalidTransition("A retired listing cannot be changed.")
        for name in ("title", "summary", "vendor", "category"):
            if name in changes:
                setattr(self, name, changes[name])
        if "tags" in changes:
            self.tags = list(changes["tags"])
        if "offers" in changes:
            if self.status == "published" and not changes["offers"]:
                raise DomainError("A published listing must keep at least one offer.")
            self.offers = [_offer(o) for o in changes["offers"]]
        self._touch()
        if self.status == "published":
            self.events.append(("listing.updated", self))

    def _touch(self) -> None:
        self.version += 1
        self.updated_at = dt.datetime.now(dt.timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "summary": self.summary, "vendor": self.vendor,
            "category": self.category, "tags": list(self.tags), "status": self.status,
            "offers": [o.to_dict() for o in self.offers],
            "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at), "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Listing":
        return cls(id=data["id"], title=data["title"], summary=data["summary"], vendor=data["vendor"],
                   category=data["category"], tags=list(data["tags"]), status=data["status"],
                   version=data["version"], offers=[_offer(o) for o in data["offers"]],
                   created_at=dt.datetime.fromisoformat(data["created_at"].replace("Z", "+00:00")),
                   updated_at=dt.datetime.fromisoformat(data["updated_at"].replace("Z", "+00:00")))


def _offer(data: dict[str, Any] | Offer) -> Offer:
    if isinstance(data, Offer):
        return data
    return Offer(id=data.get("id") or str(uuid.uuid4()), name=data["name"], channels=list(data["channels"]),
                 regions=list(data["regions"]), pricing=dict(data["pricing"]),
                 visibility=data.get("visibility", "public"), private_to=data.get("private_to"))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
