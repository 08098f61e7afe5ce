"""In-memory twins of conflict's territory repository and partner directory (issue 18), kept on the FakeDatabase
so that several fake units of work share them as consumer processes share one database."""
from __future__ import annotations

import copy

from services.conflict.domain.territories import Territory
from shared.uow import SeenAggregates


class FakeTerritories:
    def __init__(self, db, seen: SeenAggregates):
        self._rows: dict[str, dict] = db.__dict__.setdefault("territories", {})
        self._versions: list[dict] = db.__dict__.setdefault("territory_versions", [])
        self._seen = seen

    def get(self, name, *, for_update=False):
        if name not in self._rows:
            return None
        territory = Territory.from_dict(copy.deepcopy(self._rows[name]))
        self._seen.add(territory)
        return territory

    def all(self):
        return [Territory.from_dict(copy.deepcopy(d)) for _, d in sorted(self._rows.items())]

    def add(self, territory):
        assert territory.name not in self._rows
        self.save(territory)

    def save(self, territory):
        self._seen.add(territory)
        self._rows[territory.name] = territory.to_dict()
        self._versions.append({"version": territory.version, "changed_by": territory.updated_by,
                               "changed_at": territory.updated_at, "territory": territory.to_dict(),
                               "name": territory.name})

    def versions(self, name):
        return [{k: v for k, v in row.items() if k != "name"} for row in reversed(self._versions)
                if row["name"] == name]


class FakePartners:
    def __init__(self, db):
        self._rows: dict[str, dict] = db.__dict__.setdefault("partner_profiles", {})

    def upsert(self, profile):
        current = self._rows.get(profile["partner_id"])
        if current is None or profile["version"] >= current["version"]:
            self._rows[profile["partner_id"]] = copy.deepcopy(profile)

    def get(self, partner_id):
        return copy.deepcopy(self._rows.get(partner_id))

    def ids(self):
        return set(self._rows)


class FakeLeadBoard:
    def __init__(self, db):
        self._rows: dict[str, dict] = db.__dict__.setdefault("lead_board", {})

    def upsert(self, lead):
        current = self._rows.get(lead["id"])
        if current is None or lead["version"] >= current["version"]:
            self._rows[lead["id"]] = copy.deepcopy(lead)

    def list(self, *, status=None, limit=100):
        rows = sorted(self._rows.values(), key=lambda d: (d["created_at"], d["id"]), reverse=True)
        return [copy.deepcopy(d) for d in rows if not status or d["status"] == status][:limit]
