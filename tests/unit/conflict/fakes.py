"""In-memory twins of the conflict unit of work and its repositories, for the unit tests."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Iterable

from services.conflict.domain.events import new_events
from services.conflict.domain.model import Case, TrackedRegistration
from shared.uow import FakeUnitOfWorkBase, SeenAggregates
from tests.unit.conflict.territory_fakes import FakeLeadBoard, FakePartners, FakeTerritories


class FakeDatabase:
    """What several fake units of work share, as consumer processes share one database."""

    def __init__(self):
        self.registrations: dict[str, TrackedRegistration] = {}
        self.keys: dict[str, dict[str, dt.datetime]] = {}  # key -> deal id -> recorded at
        self.cases: dict[str, dict] = {}
        self.locked: list[list[str]] = []
        self.listing_titles: dict[str, tuple[str, int]] = {}  # listing id -> (title, version)


def _stored(registration: TrackedRegistration) -> TrackedRegistration:
    """As a row holds it: without the events waiting for the outbox."""
    return dataclasses.replace(copy.deepcopy(registration), events=[])


class FakeRegistrations:
    def __init__(self, db: FakeDatabase, seen: SeenAggregates):
        self._db = db
        self._seen = seen

    def get(self, deal_id: str) -> TrackedRegistration | None:
        found = self._db.registrations.get(deal_id)
        if not found:
            return None
        registration = copy.deepcopy(found)
        self._seen.add(registration)
        return registration

    def get_many(self, deal_ids: Iterable[str]) -> dict[str, TrackedRegistration]:
        return {i: copy.deepcopy(self._db.registrations[i]) for i in deal_ids if i in self._db.registrations}

    def add(self, registration: TrackedRegistration, *, keys: Iterable[str], recorded_at: dt.datetime) -> None:
        assert registration.deal_id not in self._db.registrations, "a registration is recorded once"
        self._seen.add(registration)
        self._db.registrations[registration.deal_id] = _stored(registration)
        for key in keys:
            self._db.keys.setdefault(key, {})[registration.deal_id] = recorded_at

    def remove(self, deal_id: str) -> None:
        self._db.registrations.pop(deal_id, None)
        for holders in self._db.keys.values():
            holders.pop(deal_id, None)

    def refile(self, deal_id: str, keys: Iterable[str]) -> None:
        recorded = [holders.pop(deal_id) for holders in self._db.keys.values() if deal_id in holders]
        for key in keys:
            self._db.keys.setdefault(key, {})[deal_id] = min(recorded, default=dt.datetime.now(dt.UTC))

    def save(self, registration: TrackedRegistration) -> None:
        assert registration.deal_id in self._db.registrations
        self._seen.add(registration)
        self._db.registrations[registration.deal_id] = _stored(registration)

    def set_status(self, deal_id: str, status: str) -> tuple[bool, str | None] | None:
        found = self._db.registrations.get(deal_id)
        if found is None:
            return None
        changed = found.status != status
        found.status = status
        return changed, found.case_id

    def ids_by_keys(self, keys, *, per_key=50) -> list[str]:
        found: list[str] = []
        for key in keys:
            filed = self._db.keys.get(key, {})
            found += sorted(filed, key=filed.get, reverse=True)[:per_key]
        return list(dict.fromkeys(found))

    def iter_active(self):
        return (copy.deepcopy(r) for r in self._db.registrations.values() if r.is_active)


class FakeLocks:
    def __init__(self, db: FakeDatabase):
        self._db = db

    def acquire(self, keys: Iterable[str]) -> None:
        self._db.locked.append(sorted(keys))


class FakeCases:
    def __init__(self, db: FakeDatabase, seen: SeenAggregates):
        self._db = db
        self._seen = seen

    def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        document = self._db.cases.get(case_id)
        if not document:
            return None
        case = Case.from_dict(copy.deepcopy(document))
        self._seen.add(case)
        return case

    def add(self, case: Case) -> None:
        assert case.id not in self._db.cases
        self._seen.add(case)
        self._db.cases[case.id] = case.to_dict()

    def save(self, case: Case) -> None:
        assert case.id in self._db.cases
        self._seen.add(case)
        self._db.cases[case.id] = case.to_dict()

    def list(self, *, queue, statuses=(), limit, after=None):
        found = sorted((Case.from_dict(copy.deepcopy(d)) for d in self._db.cases.values()),
                       key=lambda c: (c.opened_at, c.id))
        return [c for c in found if (not queue or c.queue == queue) and (not statuses or c.status in statuses)
                and (not after or (c.opened_at, c.id) > after)][:limit]

    def queue_stats(self, now=None):
        stats: dict[str, dict] = {}
        for document in self._db.cases.values():
            case = Case.from_dict(document)
            row = stats.setdefault(case.queue, {"queue": case.queue, "open": 0, "claimed": 0, "oldest_open_at": None,
                                                "sla_breached": 0})
            if case.status in ("open", "claimed"):
                row[case.status] += 1
                row["sla_breached"] += case.sla_breached(now)
            if case.status == "open" and (row["oldest_open_at"] is None or case.opened_at < row["oldest_open_at"]):
                row["oldest_open_at"] = case.opened_at
        return [stats[name] for name in sorted(stats)]


class FakeConflictUnitOfWork(FakeUnitOfWorkBase):
    """Writes go straight to the shared FakeDatabase; `published` holds what a commit would send."""

    def __init__(self, db: FakeDatabase | None = None):
        super().__init__(new_events)
        self.db = db or FakeDatabase()
        self.registrations = FakeRegistrations(self.db, self.seen)
        self.locks = FakeLocks(self.db)
        self.cases = FakeCases(self.db, self.seen)
        self.listing_titles = FakeListingTitles(self.db)
        self.territories = FakeTerritories(self.db, self.seen)
        self.partners = FakePartners(self.db)
        self.lead_board = FakeLeadBoard(self.db)


class FakeListingTitles:
    def __init__(self, db: FakeDatabase):
        self._db = db

    def upsert(self, listing: dict) -> None:
        current = self._db.listing_titles.get(listing["id"])
        if current is None or listing["version"] >= current[1]:
            self._db.listing_titles[listing["id"]] = (listing.get("title") or "", listing["version"])

    def titles(self, listing_ids) -> dict[str, str]:
        return {i: self._db.listing_titles[i][0] for i in listing_ids if i in self._db.listing_titles}
