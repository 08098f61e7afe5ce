"""Tracked registrations (with their blocking keys), key locks and cases, as rows."""
from __future__ import annotations

import builtins
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.conflict.domain.model import ACTIVE_DEAL_STATUSES, Case, TrackedRegistration, utcnow
from services.conflict.storage.tables import KEY_LENGTH, cases, listing_titles, registration_keys, registrations
from shared.db import one_of
from shared.uow import SeenAggregates


class TrackedRegistrationRepository:
    """Registers every registration it loads or stores with `seen`, whose verdicts commit() publishes."""

    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen

    def get(self, deal_id: str) -> TrackedRegistration | None:
        document = self._connection.execute(_REGISTRATION, {"match_deal_id": deal_id}).scalar_one_or_none()
        if not document:
            return None
        registration = TrackedRegistration(**document)
        self._seen.add(registration)
        return registration

    def get_many(self, deal_ids: Iterable[str]) -> dict[str, TrackedRegistration]:
        wanted = list(dict.fromkeys(deal_ids))
        if not wanted:
            return {}
        rows = self._connection.execute(
            sa.select(registrations.c.document).where(one_of(registrations.c.deal_id, wanted, self._connection))
        ).scalars()
        return {document["deal_id"]: TrackedRegistration(**document) for document in rows}

    def add(self, registration: TrackedRegistration, *, keys: Iterable[str], recorded_at: dt.datetime) -> None:
        """Record a newly judged registration and file it under its blocking keys."""
        self._seen.add(registration)
        filed = [key for key in dict.fromkeys(keys) if len(key) <= KEY_LENGTH]
        row = dict(deal_id=registration.deal_id, recorded_at=recorded_at, **_registration_row(registration))
        if self._connection.dialect.name == "postgresql":  # the row and its keys in one round trip
            self._connection.execute(_RECORD_WITH_KEYS, {**row, "keys": filed})
            return
        self._connection.execute(registrations.insert(), row)  # one compiled statement for every verdict
        if filed:  # one multi-row INSERT: one statement instead of one per key
            self._connection.execute(registration_keys.insert().values(
                [{"key": key, "deal_id": registration.deal_id, "recorded_at": recorded_at} for key in filed]))

    def remove(self, deal_id: str) -> None:
        """Forget a registration and its keys (it is about to be judged again after an amendment)."""
        self._connection.execute(registration_keys.delete().where(registration_keys.c.deal_id == deal_id))
        self._connection.execute(registrations.delete().where(registrations.c.deal_id == deal_id))

    def refile(self, deal_id: str, keys: Iterable[str]) -> None:
        """File a registration under new blocking keys instead of its old ones, as recorded (its customer profile
        changed: an erased contact)."""
        recorded_at = self._connection.execute(sa.select(registrations.c.recorded_at)
                                               .where(registrations.c.deal_id == deal_id)).scalar_one_or_none()
        self._connection.execute(registration_keys.delete().where(registration_keys.c.deal_id == deal_id))
        rows = [{"key": key, "deal_id": deal_id, "recorded_at": recorded_at or utcnow()}
                for key in dict.fromkeys(keys) if len(key) <= KEY_LENGTH]
        if rows:
            self._connection.execute(registration_keys.insert().values(rows))

    def save(self, registration: TrackedRegistration) -> None:
        self._seen.add(registration)
        self._connection.execute(_SAVE_REGISTRATION,
                                 {"match_deal_id": registration.deal_id, **_registration_row(registration)})

    def set_status(self, deal_id: str, status: str) -> tuple[bool, str | None] | None:
        """Record a tracked registration's new status without reading it first: one UPDATE in the usual case.

        None when the registration is not tracked; else (whether the status changed, its case id).
        """
        changed = self._connection.execute(
            _SET_STATUS[self._connection.dialect.name], {"deal_id": deal_id, "status": status}).first()
        if changed is not None:
            return True, changed.case_id
        unchanged = self._connection.execute(sa.select(registrations.c.case_id)
                                             .where(registrations.c.deal_id == deal_id)).first()
        return None if unchanged is None else (False, unchanged.case_id)

    def ids_by_keys(self, keys: Iterable[str], *, per_key: int = 50) -> list[str]:
        """Registrations filed under any of `keys`, whatever their status: the newest `per_key` of each key.

        Per key, so that a key crowded with old registrations cannot push a rarer key's match out of the
        answer. On PostgreSQL each key is one short range of the (key, recorded_at) index (a LATERAL join),
        whatever the statistics say, with the keys as one array parameter.
        """
        wanted = [k for k in dict.fromkeys(keys) if len(k) <= KEY_LENGTH]
        if not wanted:
            return []
        if self._connection.dialect.name == "postgresql":
            rows: Iterable[str] = self._connection.execute(_NEWEST_PER_KEY,
                                                           {"keys": wanted, "per_key": per_key}).scalars()
        else:  # SQLite: one query per key, each an index range; embedded use has few keys and one consumer
            rows = (deal_id for key in wanted for deal_id in self._connection.execute(
                sa.select(registration_keys.c.deal_id).where(registration_keys.c.key == key)
                .order_by(registration_keys.c.recorded_at.desc()).limit(per_key)).scalars())
        return list(dict.fromkeys(rows))

    def iter_active(self, batch_size: int = 5000) -> Iterator[TrackedRegistration]:
        """Every active registration, streamed in batches (for rebuilding the in-memory index on start)."""
        last = ""
        while True:
            rows = self._connection.execute(
                sa.select(registrations.c.deal_id, registrations.c.document)
                .where(registrations.c.status.in_(ACTIVE_DEAL_STATUSES), registrations.c.deal_id > last)
                .order_by(registrations.c.deal_id).limit(batch_size)).all()
            if not rows:
                return
            for row in rows:
                yield TrackedRegistration(**row.document)
            last = rows[-1].deal_id


class BlockingLocks:
    """Serialises verdict transactions that share a lock key, across consumer processes.

    PostgreSQL transaction-level advisory locks: one statement, no rows written, released at commit or
    rollback. Keys become 64-bit numbers; two keys that collide only serialise two unrelated verdicts.
    """

    def __init__(self, connection: Connection):
        self._connection = connection
        # What this transaction holds already: a batch takes every verdict's keys up front (handlers.batch_locks),
        # so each verdict's own acquire would only ask PostgreSQL again for locks it has (one round trip each).
        self._held: set[int] = set()

    def acquire(self, keys: Iterable[str]) -> None:
        if self._connection.dialect.name != "postgresql":
            return  # SQLite's BEGIN IMMEDIATE (shared/db.py) already serialises every writer
        # One global order (by number) so that two transactions never wait for each other's next lock.
        numbers = sorted({lock_number(k) for k in keys} - self._held)
        if numbers:
            self._connection.execute(_ADVISORY_LOCKS, {"numbers": numbers})
            self._held.update(numbers)


_NEWEST_PER_KEY = sa.text(
    "SELECT filed.deal_id FROM unnest(CAST(:keys AS varchar[])) AS wanted(key) CROSS JOIN LATERAL ("
    " SELECT deal_id FROM registration_keys WHERE registration_keys.key = wanted.key"
    " ORDER BY recorded_at DESC LIMIT :per_key) AS filed")
_RECORD_WITH_KEYS = sa.text(
    "WITH recorded AS (INSERT INTO registrations (deal_id, partner_id, status, case_id, recorded_at, document)"
    " VALUES (:deal_id, :partner_id, :status, :case_id, :recorded_at, :document) RETURNING deal_id)"
    " INSERT INTO registration_keys (key, deal_id, recorded_at)"
    " SELECT filed.key, recorded.deal_id, :recorded_at FROM recorded, unnest(CAST(:keys AS varchar[])) AS filed(key)"
).bindparams(sa.bindparam("document", type_=registrations.c.document.type),
             sa.bindparam("recorded_at", type_=registrations.c.recorded_at.type))
# The status column and the document's copy of it, in one statement (the column is what queries filter on).
_SET_STATUS = {
    "postgresql": sa.text(
        "UPDATE registrations SET status = :status,"
        " document = jsonb_set(document::jsonb, '{status}', to_jsonb(CAST(:status AS text)))::json"
        " WHERE deal_id = :deal_id AND status <> :status RETURNING case_id"),
    "sqlite": sa.text(
        "UPDATE registrations SET status = :status, document = json_set(document, '$.status', :status)"
        " WHERE deal_id = :deal_id AND status <> :status RETURNING case_id"),
}
# The per-event statements, built once: building a statement costs more client CPU than executing it (about
# 120 of 290 us a SELECT on the bench machine); the UPDATEs take their SET columns from the parameters' keys.
_REGISTRATION = sa.select(registrations.c.document).where(registrations.c.deal_id == sa.bindparam("match_deal_id"))
_SAVE_REGISTRATION = registrations.update().where(registrations.c.deal_id == sa.bindparam("match_deal_id"))
_CASE = sa.select(cases.c.document).where(cases.c.id == sa.bindparam("match_id"))
_CASE_FOR_UPDATE = _CASE.with_for_update()
_SAVE_CASE = cases.update().where(cases.c.id == sa.bindparam("match_id"))
_ADVISORY_LOCKS = sa.text("SELECT pg_advisory_xact_lock(n) FROM unnest(CAST(:numbers AS bigint[])) AS n")


def lock_number(key: str) -> int:
    """A stable signed 64-bit number for a lock key (the same in every process and release)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class CaseRepository:
    """Registers every case it loads or stores with `seen`, whose events commit() publishes."""

    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen

    def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        query = _CASE_FOR_UPDATE if for_update else _CASE
        document = self._connection.execute(query, {"match_id": case_id}).scalar_one_or_none()
        if not document:
            return None
        case = Case.from_dict(document)
        self._seen.add(case)
        return case

    def add(self, case: Case) -> None:
        self._seen.add(case)
        self._connection.execute(cases.insert().values(**_case_row(case)))

    def save(self, case: Case) -> None:
        self._seen.add(case)
        self._connection.execute(_SAVE_CASE, {"match_id": case.id, **_case_row(case)})

    def list(self, *, queue: str | None, statuses: Iterable[str] = (), limit: int,
             after: tuple[dt.datetime, str] | None = None) -> builtins.list[Case]:
        """Oldest first, as a queue is worked; `after` is the (opened_at, id) the previous page ended with."""
        c = cases.c
        query = sa.select(c.document).order_by(c.opened_at, c.id).limit(limit)
        if queue:
            query = query.where(c.queue == queue)
        if statuses := builtins.list(statuses):
            query = query.where(c.status.in_(statuses))
        if after:
            opened_at, last_id = after
            query = query.where(sa.or_(c.opened_at > opened_at, sa.and_(c.opened_at == opened_at, c.id > last_id)))
        return [Case.from_dict(d) for d in self._connection.execute(query).scalars()]

    def queue_stats(self, now: dt.datetime | None = None) -> builtins.list[dict[str, Any]]:
        """Per queue: open and claimed counts, the oldest open case's opening time and SLA breaches."""
        now = now or utcnow()
        undecided = cases.c.status.in_(("open", "claimed"))
        query = (sa.select(
            cases.c.queue,
            sa.func.sum(sa.case((cases.c.status == "open", 1), else_=0)).label("open"),
            sa.func.sum(sa.case((cases.c.status == "claimed", 1), else_=0)).label("claimed"),
            sa.func.min(sa.case((cases.c.status == "open", cases.c.opened_at), else_=None)).label("oldest_open_at"),
            sa.func.sum(sa.case((sa.and_(undecided, cases.c.sla_due_at < now), 1), else_=0)).label("sla_breached"),
        ).group_by(cases.c.queue).order_by(cases.c.queue))
        return [dict(row._mapping) for row in self._connection.execute(query)]


def _registration_row(registration: TrackedRegistration) -> dict:
    return dict(partner_id=registration.partner_id, status=registration.status, case_id=registration.case_id,
                document=registration.to_dict())


def _case_row(case: Case) -> dict:
    return dict(id=case.id, queue=case.queue, status=case.status, opened_at=case.opened_at,
                sla_due_at=case.sla_due_at, version=case.version, document=case.to_dict())


class ListingTitles:
    """The catalog's listing titles (a read model of catalog.listings.v1), so that a case names its products."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def upsert(self, listing: dict[str, Any]) -> None:
        """Keep the newest version; an older event arriving late (or replayed) changes nothing."""
        t = listing_titles.c
        current = self._connection.execute(sa.select(t.version).where(t.id == listing["id"])).scalar_one_or_none()
        row = {"id": listing["id"], "title": str(listing.get("title") or "")[:200], "version": int(listing["version"])}
        if current is None:
            self._connection.execute(listing_titles.insert().values(**row))
        elif row["version"] >= current:
            self._connection.execute(listing_titles.update().where(t.id == row["id"]).values(**row))

    def titles(self, listing_ids: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(listing_ids))
        if not wanted:
            return {}
        rows = self._connection.execute(sa.select(listing_titles.c.id, listing_titles.c.title)
                                        .where(one_of(listing_titles.c.id, wanted, self._connection)))
        return {row.id: row.title for row in rows}
