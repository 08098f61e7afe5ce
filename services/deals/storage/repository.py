"""Registrations, the catalog read model, idempotency records and rate-limit counters, as rows."""
from __future__ import annotations

import builtins
import datetime as dt
import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from services.deals.domain.idempotency import DONE, IN_FLIGHT, IdempotencyRecord
from services.deals.domain.model import ACTIVE_STATUSES, Registration, redacted
from services.deals.storage.tables import (
    catalog_listings,
    idempotency_records,
    outbox,
    rate_limit_windows,
    registrations,
)
from shared.identity import CustomerKeys, customer_keys, tax_id_core
from shared.outbox import dead_table_of
from shared.retention import count_pruned
from shared.uow import SeenAggregates


def customer_columns(document: dict[str, Any], keys: CustomerKeys | None = None) -> dict[str, Any]:
    """The query columns of a registration document: its channel and its customer's normalised keys.

    The tax id column holds the id without its country prefix ("DE123456789" and "123456789" are often one id),
    so that the pre-check finds both; strong_match then tells them apart where the prefixes differ.
    """
    keys = keys or customer_keys(document.get("customer") or {})
    tax_id = keys["tax_id"]
    return dict(channel=document.get("channel"), customer_country=keys["country"], customer_domain=keys["domain"],
                customer_tax_id=tax_id_core(tax_id) if tax_id else None, customer_duns=keys["duns"],
                customer_name_key=keys["name"])


class RegistrationRepository:
    """Registers every registration it loads or stores with `seen`, whose events commit() publishes."""

    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen

    def get(self, registration_id: str, *, for_update: bool = False) -> Registration | None:
        query = _REGISTRATION_FOR_UPDATE if for_update else _REGISTRATION
        document = self._connection.execute(query, {"match_id": registration_id}).scalar_one_or_none()
        if not document:
            return None
        registration = Registration.from_dict(document)
        self._seen.add(registration)
        return registration

    def add(self, registration: Registration, *, customer_keys: dict[str, str | None] | None = None) -> None:
        """`customer_keys` when the caller has them already (a submission computes them once)."""
        self._seen.add(registration)
        # Parameters beside a plain insert (not .values()) reuse one compiled statement: the submit hot path.
        self._connection.execute(registrations.insert(), _row(registration, customer_keys))

    def save(self, registration: Registration) -> None:
        self._seen.add(registration)
        self._connection.execute(_SAVE, {"match_id": registration.id, **_row(registration)})

    def due_for_expiry(self, now, limit: int) -> list[str]:
        return list(self._connection.execute(
            # The status inline, not as a parameter: then even a cached generic plan can use the partial index
            # ix_registrations_approved_until, whose predicate is exactly this.
            sa.select(registrations.c.id).where(registrations.c.status == sa.literal_column("'approved'"),
                                                registrations.c.protection_until < now)
            .order_by(registrations.c.protection_until).limit(limit)).scalars())

    def list(self, *, partner_id: str | None, status: str | None = None, channel: str | None = None,
             limit: int, after: tuple[dt.datetime, str] | None = None) -> list[Registration]:
        """Newest first; `after` is the (submitted_at, id) of the last row of the previous page."""
        r = registrations.c
        query = sa.select(r.document).order_by(r.submitted_at.desc(), r.id.desc()).limit(limit)
        if partner_id is not None:
            query = query.where(r.partner_id == partner_id)
        if status:
            query = query.where(r.status == status)
        if channel:
            query = query.where(r.channel == channel)
        if after:
            submitted_at, last_id = after
            query = query.where(sa.or_(r.submitted_at < submitted_at,
                                       sa.and_(r.submitted_at == submitted_at, r.id < last_id)))
        return [Registration.from_dict(d) for d in self._connection.execute(query).scalars()]

    def competing(self, *, customer: dict[str, Any], excluding_partner: str,
                  limit: int = 200) -> builtins.list[Registration]:
        """Other partners' active registrations sharing any customer key (domain, tax id, DUNS, name+country)."""
        keys = customer_columns({"customer": customer})
        r = registrations.c
        matches = []
        if keys["customer_domain"]:
            matches.append(r.customer_domain == keys["customer_domain"])
        if keys["customer_tax_id"]:
            matches.append(sa.and_(r.customer_tax_id == keys["customer_tax_id"],
                                   r.customer_country == keys["customer_country"]))
        if keys["customer_duns"]:
            matches.append(r.customer_duns == keys["customer_duns"])
        if keys["customer_name_key"]:
            matches.append(sa.and_(r.customer_name_key == keys["customer_name_key"],
                                   r.customer_country == keys["customer_country"]))
        query = (sa.select(r.document).where(sa.or_(*matches), r.status.in_(ACTIVE_STATUSES),
                                             r.partner_id != excluding_partner).limit(limit))
        return [Registration.from_dict(d) for d in self._connection.execute(query).scalars()]


# Every verdict and status change reads and writes one registration: the statements are built once, since building
# one costs more client CPU than executing it; the UPDATE takes its SET columns from the parameters' keys.
_REGISTRATION = sa.select(registrations.c.document).where(registrations.c.id == sa.bindparam("match_id"))
_REGISTRATION_FOR_UPDATE = _REGISTRATION.with_for_update()
_SAVE = registrations.update().where(registrations.c.id == sa.bindparam("match_id"))


def _row(registration: Registration, keys: dict[str, str | None] | None = None) -> dict:
    document = registration.to_dict()
    return dict(id=registration.id, partner_id=registration.partner_id, status=registration.status,
                submitted_at=registration.submitted_at, protection_until=registration.protection_until,
                version=registration.version, document=document, **customer_columns(document, keys))


class ListingCache:
    """Published listings this process read recently, so a submission skips one query (the hot path).

    Only listings that exist are cached, for `ttl_s`: a listing retired in the catalog is refused at most that
    much later than the read model learns of it, which is small next to the consumer's own lag.
    """

    def __init__(self, ttl_s: float = 1.0, clock=time.monotonic):
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, dict]] = {}

    def get_many(self, listing_ids: list[str]) -> dict[str, dict]:
        now = self._clock()
        found = {}
        for listing_id in listing_ids:
            entry = self._entries.get(listing_id)
            if entry is not None and entry[0] > now:
                found[listing_id] = entry[1]
        return found

    def put_many(self, listings: dict[str, dict]) -> None:
        expires = self._clock() + self._ttl_s
        if len(self._entries) > 10_000:  # bounded: forget everything rather than track recency
            self._entries = {}
        for listing_id, listing in listings.items():
            self._entries[listing_id] = (expires, listing)

    def forget(self, listing_id: str) -> None:
        self._entries.pop(listing_id, None)


class CatalogReadModel:
    def __init__(self, connection: Connection, cache: ListingCache | None = None):
        self._connection = connection
        self._cache = cache

    def upsert(self, listing: dict) -> None:
        """Keep the newest version; an older event arriving late changes nothing."""
        current = self._connection.execute(
            sa.select(catalog_listings.c.version).where(catalog_listings.c.id == listing["id"])).scalar_one_or_none()
        row = dict(id=listing["id"], status=listing["status"], version=listing["version"], document=listing)
        if current is None:
            self._connection.execute(catalog_listings.insert().values(**row))
        elif listing["version"] >= current:
            self._connection.execute(catalog_listings.update().where(catalog_listings.c.id == listing["id"])
                                     .values(**row))
        if self._cache is not None:
            self._cache.forget(listing["id"])

    def get_many(self, listing_ids: list[str]) -> dict[str, dict]:
        found = self._cache.get_many(listing_ids) if self._cache is not None else {}
        missing = [listing_id for listing_id in listing_ids if listing_id not in found]
        if missing:
            rows = self._connection.execute(
                sa.select(catalog_listings.c.document).where(catalog_listings.c.id.in_(missing))).scalars()
            loaded = {document["id"]: document for document in rows}
            if self._cache is not None:
                self._cache.put_many(loaded)
            found.update(loaded)
        return found


class IdempotencyStore:
    def __init__(self, connection: Connection):
        self._connection = connection

    def claim(self, partner_id: str, key: str, request_hash: str, *, now: dt.datetime, ttl: dt.timedelta,
              abandoned_after: dt.timedelta) -> IdempotencyRecord | None:
        """Take the key for this request (None), or return the record that already holds it.

        A record past its TTL, or an in-flight one whose process evidently died, is taken over atomically.
        """
        t = idempotency_records.c
        try:
            with self._connection.begin_nested():
                self._connection.execute(idempotency_records.insert().values(
                    partner_id=partner_id, key=key, request_hash=request_hash, state=IN_FLIGHT, created_at=now))
            return None
        except IntegrityError:
            pass  # the key is taken: by a live request, a finished one, or one we may take over
        taken_over = self._connection.execute(
            idempotency_records.update()
            .where(t.partner_id == partner_id, t.key == key,
                   sa.or_(t.created_at < now - ttl,
                          sa.and_(t.state == IN_FLIGHT, t.created_at < now - abandoned_after)))
            .values(request_hash=request_hash, state=IN_FLIGHT, created_at=now, response_status=None,
                    response_body=None, response_headers=None)).rowcount
        if taken_over:
            return None
        row = self._connection.execute(sa.select(idempotency_records).where(t.partner_id == partner_id,
                                                                             t.key == key)).one()
        # The HTTP status and headers follow from the body (201, its id and version); older rows still hold them.
        response = row.response_body if row.state == DONE else None
        return IdempotencyRecord(row.request_hash, row.state, row.created_at, response)

    def complete(self, partner_id: str, key: str, acknowledged: str) -> None:
        t = idempotency_records.c
        self._connection.execute(idempotency_records.update().where(t.partner_id == partner_id, t.key == key)
                                 .values(state=DONE, response_status=201, response_body=acknowledged))

    def release(self, partner_id: str, key: str) -> None:
        t = idempotency_records.c
        self._connection.execute(idempotency_records.delete().where(t.partner_id == partner_id, t.key == key,
                                                                    t.state == IN_FLIGHT))

    def prune(self, before: dt.datetime) -> int:
        """Delete the records created before `before`; retention_pruned counts them for /metrics."""
        pruned = self._connection.execute(
            idempotency_records.delete().where(idempotency_records.c.created_at < before)).rowcount
        count_pruned(self._connection, idempotency_records.name, pruned)
        return pruned


class PersonalDataCopies:
    """Copies of a registration's personal data outside its row, redacted when it is erased: the acknowledgement an
    idempotency record replays, and the registration's events still in the outbox (or outbox_dead): events
    written before they stopped carrying the contact, or not yet published."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def erase(self, registration_id: str, partner_id: str) -> int:
        """Redact every copy; returns how many rows changed."""
        changed = 0
        t = idempotency_records.c
        for row in self._connection.execute(
                sa.select(t.key, t.response_body).where(t.partner_id == partner_id,
                                                        t.response_body.contains(registration_id, autoescape=True))):
            document = json.loads(row.response_body)
            if document.get("id") == registration_id and redacted(document) != document:
                self._connection.execute(idempotency_records.update().where(t.partner_id == partner_id,
                                                                            t.key == row.key)
                                         .values(response_body=json.dumps(redacted(document), separators=(",", ":"))))
                changed += 1
        for table in (outbox, dead_table_of(outbox)):
            for row in self._connection.execute(sa.select(table.c.id, table.c.payload)
                                                .where(table.c.message_key == registration_id)):
                event = json.loads(row.payload)
                data = event.get("data")
                if isinstance(data, dict) and redacted(data) != data:
                    self._connection.execute(table.update().where(table.c.id == row.id).values(
                        payload=json.dumps({**event, "data": redacted(data)}, separators=(",", ":"))))
                    changed += 1
        return changed


class RateLimitCounters:
    def __init__(self, connection: Connection):
        self._connection = connection

    def hit(self, bucket: str, window: int) -> int:
        """Count one request in (bucket, window) and return the window's count so far, atomically."""
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(rate_limit_windows).values(bucket=bucket, window=window, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=["bucket", "window"], set_={"count": rate_limit_windows.c.count + 1},
        ).returning(rate_limit_windows.c.count)
        return self._connection.execute(statement).scalar_one()

    def prune(self, before_window: int) -> int:
        return self._connection.execute(
            rate_limit_windows.delete().where(rate_limit_windows.c.window < before_window)).rowcount
