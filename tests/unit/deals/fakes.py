"""In-memory twins of the deals repositories and unit of work, and helpers that build valid inputs."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import uuid

from services.deals.domain.events import new_events
from services.deals.domain.idempotency import DONE, IN_FLIGHT, IdempotencyRecord
from services.deals.domain.model import ACTIVE_STATUSES, Registration, redacted
from shared.auth import Principal
from shared.identity import customer_keys, tax_id_core
from shared.uow import FakeUnitOfWorkBase, SeenAggregates


class FakeRegistrations:
    def __init__(self, seen: SeenAggregates):
        self.documents: dict[str, dict] = {}
        self._seen = seen

    def get(self, registration_id, *, for_update=False):
        document = self.documents.get(registration_id)
        if not document:
            return None
        registration = Registration.from_dict(copy.deepcopy(document))
        self._seen.add(registration)
        return registration

    def add(self, registration, *, customer_keys=None):
        assert registration.id not in self.documents
        self._seen.add(registration)
        self.documents[registration.id] = registration.to_dict()

    def save(self, registration):
        self._seen.add(registration)
        self.documents[registration.id] = registration.to_dict()

    def due_for_expiry(self, now, limit):
        due = [d for d in self.all() if d.status == "approved" and d.protection_until < now]
        return [d.id for d in sorted(due, key=lambda d: d.protection_until)][:limit]

    def list(self, *, partner_id, status=None, channel=None, limit, after=None):
        rows = [r for r in self.all() if (partner_id is None or r.partner_id == partner_id)
                and (not status or r.status == status) and (not channel or r.channel == channel)]
        rows.sort(key=lambda r: (r.submitted_at, r.id), reverse=True)
        if after:
            rows = [r for r in rows if (r.submitted_at, r.id) < after]
        return rows[:limit]

    def competing(self, *, customer, excluding_partner, limit=200):
        keys = customer_keys(customer)
        found = []
        for registration in self.all():
            other = customer_keys(registration.customer)
            same = ((keys["domain"] and keys["domain"] == other["domain"])
                    or (keys["duns"] and keys["duns"] == other["duns"])
                    or (keys["tax_id"] and other["tax_id"] and keys["country"] == other["country"]
                        and tax_id_core(keys["tax_id"]) == tax_id_core(other["tax_id"]))  # as the column holds it
                    or (keys["name"] and keys["name"] == other["name"] and keys["country"] == other["country"]))
            if same and registration.status in ACTIVE_STATUSES and registration.partner_id != excluding_partner:
                found.append(registration)
        return found[:limit]

    def all(self) -> list[Registration]:
        return [Registration.from_dict(copy.deepcopy(d)) for d in self.documents.values()]


class FakeCatalog:
    def __init__(self):
        self.listings: dict[str, dict] = {}

    def upsert(self, listing):
        current = self.listings.get(listing["id"])
        if current is None or listing["version"] >= current["version"]:
            self.listings[listing["id"]] = listing

    def get_many(self, listing_ids):
        return {i: self.listings[i] for i in listing_ids if i in self.listings}


@dataclasses.dataclass
class _Row:
    request_hash: str
    state: str
    created_at: dt.datetime
    response: object = None


class FakeIdempotency:
    def __init__(self):
        self.rows: dict[tuple[str, str], _Row] = {}

    def claim(self, partner_id, key, request_hash, *, now, ttl, abandoned_after):
        row = self.rows.get((partner_id, key))
        if row is None or row.created_at < now - ttl or (row.state == IN_FLIGHT
                                                          and row.created_at < now - abandoned_after):
            self.rows[(partner_id, key)] = _Row(request_hash, IN_FLIGHT, now)
            return None
        return IdempotencyRecord(row.request_hash, row.state, row.created_at, row.response)

    def complete(self, partner_id, key, response):
        row = self.rows[(partner_id, key)]
        row.state, row.response = DONE, response

    def release(self, partner_id, key):
        if self.rows.get((partner_id, key)) and self.rows[(partner_id, key)].state == IN_FLIGHT:
            del self.rows[(partner_id, key)]

    def prune(self, before):
        for pk in [pk for pk, row in self.rows.items() if row.created_at < before]:
            del self.rows[pk]


class FakePersonalData:
    """Redacts the acknowledgements the fake idempotency records replay (the fakes keep no outbox rows)."""

    def __init__(self, idempotency: FakeIdempotency):
        self._idempotency = idempotency
        self.erased: list[str] = []

    def erase(self, registration_id, partner_id):
        self.erased.append(registration_id)
        changed = 0
        for (owner, _), row in self._idempotency.rows.items():
            document = json.loads(row.response) if owner == partner_id and isinstance(row.response, str) else {}
            if document.get("id") == registration_id and redacted(document) != document:
                row.response = json.dumps(redacted(document), separators=(",", ":"))
                changed += 1
        return changed


class FakeRateLimits:
    def __init__(self):
        self.counts: dict[tuple[str, int], int] = {}

    def hit(self, bucket, window):
        self.counts[(bucket, window)] = self.counts.get((bucket, window), 0) + 1
        return self.counts[(bucket, window)]

    def prune(self, before_window):
        self.counts = {k: v for k, v in self.counts.items() if k[1] >= before_window}


class FakeDealsUnitOfWork(FakeUnitOfWorkBase):
    """One shared store: every `with uow:` sees what earlier committed work left (rollback is not modelled)."""

    def __init__(self):
        super().__init__(new_events)
        self.registrations = FakeRegistrations(self.seen)
        self.catalog = FakeCatalog()
        self.idempotency = FakeIdempotency()
        self.rate_limits = FakeRateLimits()
        self.personal_data = FakePersonalData(self.idempotency)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def partner(partner_id: str | None = None, channel: str = "reseller") -> Principal:
    partner_id = partner_id or unique("partner")
    return Principal(sub=f"partner:{partner_id}", role="partner", partner_id=partner_id, channel=channel)


def listing(*, channels=("reseller", "distributor", "msp", "marketplace", "direct"), regions=("NA", "EMEA"),
            status="published", version=1, listing_id=None, **offer) -> dict:
    return {"id": listing_id or str(uuid.uuid4()), "title": "Suite", "status": status, "version": version,
            "offers": [{"id": unique("offer"), "name": "Std", "channels": list(channels), "regions": list(regions),
                        "visibility": "public", **offer}]}


def deal_fields(products: list[str], **overrides) -> dict:
    fields = {"customer": {"name": f"Customer {uuid.uuid4().hex[:8]} Ltd", "country": "GB",
                           "domain": f"{uuid.uuid4().hex[:10]}.example.com"},
              "products": products, "amount": {"amount": "25000.00", "currency": "USD"},
              "expected_close": (dt.date.today() + dt.timedelta(days=45)).isoformat()}
    fields.update(overrides)
    return fields
