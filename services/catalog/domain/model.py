"""Listings and their offers, and the draft -> published -> retired lifecycle. Standard library only."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from shared.clock import iso, parse_iso, utcnow

CHANNELS = ("reseller", "distributor", "msp", "marketplace", "direct")
STATUSES = ("draft", "published", "retired")


class DomainError(Exception):
    """A rule of the catalog was broken; the message is written for the caller.

    With a `field` it is a problem with what the caller sent (422); without one, with the listing's state (409).
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


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
    created_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    updated_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    # Event types recorded by transitions; the unit of work publishes them with the listing as it is at commit.
    events: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)
    # Changes nobody outside hears of (a draft is not published), kept for the audit trail only.
    unpublished_changes: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def draft(cls, *, title: str, summary: str, vendor: str, category: str, tags: list[str],
              offers: list[dict[str, Any]]) -> Listing:
        listing = cls(id=str(uuid.uuid4()), title=title, summary=summary, vendor=vendor, category=category,
                      tags=_distinct(tags), offers=[_offer({**o, "id": None}) for o in offers])
        listing.unpublished_changes.append("listing.drafted")
        return listing

    def publish(self) -> None:
        if self.status == "published":
            raise InvalidTransition("The listing is already published.")
        if self.status == "retired":
            raise InvalidTransition("A retired listing cannot be published again.")
        if not self.offers:
            raise InvalidTransition("A listing needs at least one offer before it can be published.")
        self.status = "published"
        self._touch()
        self.events.append("listing.published")

    def retire(self) -> None:
        if self.status == "retired":
            raise InvalidTransition("The listing is already retired.")
        was_published = self.status == "published"
        self.status = "retired"
        self._touch()
        if was_published:
            self.events.append("listing.retired")
        else:
            self.unpublished_changes.append("listing.retired")

    def update(self, changes: dict[str, Any]) -> None:
        if self.status == "retired":
            raise InvalidTransition("A retired listing cannot be changed.")
        for name in ("title", "summary", "vendor", "category"):
            if name in changes:
                setattr(self, name, changes[name])
        if "tags" in changes:
            self.tags = _distinct(changes["tags"])
        if "offers" in changes:
            if self.status == "published" and not changes["offers"]:
                raise DomainError("A published listing must keep at least one offer.", field="offers")
            # An offer sent back with its id keeps that id, so partners' references to it survive an edit.
            current_ids = {offer.id for offer in self.offers}
            self.offers = [_offer({**o, "id": o.get("id") if o.get("id") in current_ids else None})
                           for o in changes["offers"]]
        self._touch()
        if self.status == "published":
            self.events.append("listing.updated")
        else:
            self.unpublished_changes.append("listing.draft_updated")

    def _touch(self) -> None:
        self.version += 1
        self.updated_at = utcnow()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "summary": self.summary, "vendor": self.vendor,
            "category": self.category, "tags": list(self.tags), "status": self.status,
            "offers": [o.to_dict() for o in self.offers],
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at), "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Listing:
        return cls(id=data["id"], title=data["title"], summary=data["summary"], vendor=data["vendor"],
                   category=data["category"], tags=list(data["tags"]), status=data["status"],
                   version=data["version"], offers=[_offer(o) for o in data["offers"]],
                   created_at=parse_iso(data["created_at"]), updated_at=parse_iso(data["updated_at"]))


def _offer(data: dict[str, Any] | Offer) -> Offer:
    if isinstance(data, Offer):
        return data
    return Offer(id=data.get("id") or str(uuid.uuid4()), name=data["name"], channels=_distinct(data["channels"]),
                 regions=_distinct(data["regions"]), pricing=dict(data["pricing"]),
                 visibility=data.get("visibility", "public"),
                 private_to=data["private_to"].strip().lower() if data.get("private_to") else None)


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))

