"""Territories with every version of each, and the read models of partner profiles (deals.partners.v1) and of
vendor leads (deals.leads.v1), as rows."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.conflict.domain.territories import Territory
from services.conflict.storage.tables import lead_board, partner_profiles, territories, territory_versions
from shared.clock import parse_iso
from shared.uow import SeenAggregates

# Read for every verdict: built once (see services/conflict/storage/repository.py).
_ALL_TERRITORIES = sa.select(territories.c.document).order_by(territories.c.name)
_PARTNER_PROFILE = sa.select(partner_profiles.c.document).where(
    partner_profiles.c.partner_id == sa.bindparam("match_partner_id"))


class TerritoryRepository:
    """One unit of work's view. `all()` is read once per unit of work (a consumer's batch judges many
    registrations in one transaction) and forgotten on any write through it, so it always equals the table."""

    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen
        self._all: list[Territory] | None = None

    def get(self, name: str, *, for_update: bool = False) -> Territory | None:
        query = sa.select(territories.c.document).where(territories.c.name == name)
        document = self._connection.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
        if document is None:
            return None
        territory = Territory.from_dict(document)
        self._seen.add(territory)
        return territory

    def all(self) -> list[Territory]:
        """Every territory: a vendor has tens to hundreds, read whole for each verdict's named-account check."""
        if self._all is None:
            self._all = [Territory.from_dict(d) for d in self._connection.execute(_ALL_TERRITORIES).scalars()]
        return list(self._all)

    def add(self, territory: Territory) -> None:
        self._all = None
        self._seen.add(territory)
        self._connection.execute(territories.insert().values(**_row(territory)))
        self._record_version(territory)

    def save(self, territory: Territory) -> None:
        self._all = None
        self._seen.add(territory)
        self._connection.execute(territories.update().where(territories.c.name == territory.name)
                                 .values(**_row(territory)))
        self._record_version(territory)

    def versions(self, name: str) -> list[dict[str, Any]]:
        v = territory_versions.c
        return [{"version": row.version, "changed_by": row.changed_by, "changed_at": row.changed_at,
                 "territory": row.document}
                for row in self._connection.execute(sa.select(territory_versions).where(v.name == name)
                                                    .order_by(v.version.desc()))]

    def _record_version(self, territory: Territory) -> None:
        self._connection.execute(territory_versions.insert().values(
            name=territory.name, version=territory.version, changed_by=territory.updated_by,
            changed_at=territory.updated_at, document=territory.to_dict()))


def _row(territory: Territory) -> dict[str, Any]:
    return dict(name=territory.name, owner=territory.owner, version=territory.version, document=territory.to_dict())


class PartnerDirectory:
    """The partners deals has profiles for: ids (territory owners) and the countries each may sell in.

    A profile read is kept for the rest of the unit of work (a batch judges many registrations of few partners)
    and forgotten when one is written through it."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self._profiles: dict[str, dict[str, Any] | None] = {}

    def upsert(self, profile: dict[str, Any]) -> None:
        """Keep the newest version; an older event arriving late changes nothing."""
        self._profiles.pop(profile["partner_id"], None)
        p = partner_profiles.c
        current = self._connection.execute(sa.select(p.version).where(p.partner_id == profile["partner_id"])
                                           ).scalar_one_or_none()
        row = dict(partner_id=profile["partner_id"], version=profile["version"], document=profile)
        if current is None:
            self._connection.execute(partner_profiles.insert().values(**row))
        elif profile["version"] >= current:
            self._connection.execute(partner_profiles.update().where(p.partner_id == profile["partner_id"])
                                     .values(**row))

    def get(self, partner_id: str) -> dict[str, Any] | None:
        if partner_id not in self._profiles:
            self._profiles[partner_id] = self._connection.execute(
                _PARTNER_PROFILE, {"match_partner_id": partner_id}).scalar_one_or_none()
        return self._profiles[partner_id]

    def ids(self) -> set[str]:
        return set(self._connection.execute(sa.select(partner_profiles.c.partner_id)).scalars())


class LeadBoard:
    """The latest state of each vendor lead (from deals.leads.v1), for the desk."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def upsert(self, lead: dict[str, Any]) -> None:
        """Keep the newest version; an older event arriving late changes nothing."""
        b = lead_board.c
        current = self._connection.execute(sa.select(b.version).where(b.id == lead["id"])).scalar_one_or_none()
        row = dict(id=lead["id"], status=lead["status"], assignee=lead.get("assignee"),
                   created_at=parse_iso(lead["created_at"]), version=lead["version"], document=lead)
        if current is None:
            self._connection.execute(lead_board.insert().values(**row))
        elif lead["version"] >= current:
            self._connection.execute(lead_board.update().where(b.id == lead["id"]).values(**row))

    def list(self, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        b = lead_board.c
        query = sa.select(b.document).order_by(b.created_at.desc(), b.id.desc()).limit(limit)
        if status:
            query = query.where(b.status == status)
        return list(self._connection.execute(query).scalars())
