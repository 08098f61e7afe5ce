"""Partner profiles, vendor leads, the territories read model, and the partner figures lead scoring reads, as rows."""
from __future__ import annotations

import builtins
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.deals.domain.leads import Lead
from services.deals.domain.partners import PartnerProfile
from services.deals.storage.tables import leads, partner_profiles, registrations, territories
from shared.uow import SeenAggregates


class PartnerProfiles:
    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen

    def get(self, partner_id: str, *, for_update: bool = False) -> PartnerProfile | None:
        query = sa.select(partner_profiles.c.document).where(partner_profiles.c.partner_id == partner_id)
        document = self._connection.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
        if document is None:
            return None
        profile = PartnerProfile.from_dict(document)
        self._seen.add(profile)
        return profile

    def all(self) -> list[PartnerProfile]:
        return [PartnerProfile.from_dict(d) for d in self._connection.execute(
            sa.select(partner_profiles.c.document).order_by(partner_profiles.c.partner_id)).scalars()]

    def add(self, profile: PartnerProfile) -> None:
        self._seen.add(profile)
        self._connection.execute(partner_profiles.insert().values(**_profile_row(profile)))

    def save(self, profile: PartnerProfile) -> None:
        self._seen.add(profile)
        self._connection.execute(partner_profiles.update().where(partner_profiles.c.partner_id == profile.partner_id)
                                 .values(**_profile_row(profile)))


def _profile_row(profile: PartnerProfile) -> dict[str, Any]:
    return dict(partner_id=profile.partner_id, tier=profile.tier, version=profile.version,
                updated_at=profile.updated_at, document=profile.to_dict())


class Leads:
    def __init__(self, connection: Connection, seen: SeenAggregates):
        self._connection = connection
        self._seen = seen

    def get(self, lead_id: str, *, for_update: bool = False) -> Lead | None:
        query = sa.select(leads.c.document).where(leads.c.id == lead_id)
        document = self._connection.execute(query.with_for_update() if for_update else query).scalar_one_or_none()
        if document is None:
            return None
        lead = Lead.from_dict(document)
        self._seen.add(lead)
        return lead

    def add(self, lead: Lead) -> None:
        self._seen.add(lead)
        self._connection.execute(leads.insert().values(**_lead_row(lead)))

    def save(self, lead: Lead) -> None:
        self._seen.add(lead)
        self._connection.execute(leads.update().where(leads.c.id == lead.id).values(**_lead_row(lead)))

    def list(self, *, assignee: str | None = None, status: str | None = None, limit: int = 50,
             after: tuple[dt.datetime, str] | None = None) -> list[Lead]:
        """Newest first; `after` is the (created_at, id) of the previous page's last lead."""
        c = leads.c
        query = sa.select(c.document).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        if assignee is not None:
            query = query.where(c.assignee == assignee)
        if status:
            query = query.where(c.status == status)
        if after:
            query = query.where(sa.or_(c.created_at < after[0], sa.and_(c.created_at == after[0], c.id < after[1])))
        return [Lead.from_dict(d) for d in self._connection.execute(query).scalars()]

    def overdue(self, now: dt.datetime, limit: int) -> builtins.list[str]:
        c = leads.c
        return list(self._connection.execute(sa.select(c.id).where(c.status == "assigned", c.due_at < now)
                                             .order_by(c.due_at).limit(limit)).scalars())

    def open_counts(self) -> dict[str, int]:
        c = leads.c
        return {row.assignee: row.n for row in self._connection.execute(
            sa.select(c.assignee, sa.func.count().label("n")).where(c.status == "assigned").group_by(c.assignee))}

    def history_by_partner(self, *, since: dt.datetime) -> tuple[dict[str, float], dict[str, dt.datetime]]:
        """Each partner's mean hours from assignment to acceptance, and when it was last assigned a lead, over the
        leads created since `since`."""
        accept_hours: dict[str, list[float]] = {}
        last_assigned: dict[str, dt.datetime] = {}
        for document in self._connection.execute(sa.select(leads.c.document)
                                                 .where(leads.c.created_at >= since)).scalars():
            for attempt in Lead.from_dict(document).attempts:
                if attempt.partner_id not in last_assigned or attempt.assigned_at > last_assigned[attempt.partner_id]:
                    last_assigned[attempt.partner_id] = attempt.assigned_at
                if attempt.outcome == "accepted" and attempt.ended_at:
                    hours = (attempt.ended_at - attempt.assigned_at).total_seconds() / 3600
                    accept_hours.setdefault(attempt.partner_id, []).append(hours)
        return {p: sum(h) / len(h) for p, h in accept_hours.items()}, last_assigned

    def all(self) -> builtins.list[Lead]:
        return [Lead.from_dict(d) for d in self._connection.execute(
            sa.select(leads.c.document).order_by(leads.c.created_at, leads.c.id)).scalars()]


def _lead_row(lead: Lead) -> dict[str, Any]:
    current = lead.current
    return dict(id=lead.id, status=lead.status, assignee=lead.assignee, due_at=current.due_at if current else None,
                created_at=lead.created_at, version=lead.version, document=lead.to_dict())


class PartnerRecords:
    """Won and lost registrations per partner: the win rate lead scoring reads."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def outcomes(self) -> dict[str, tuple[int, int]]:
        r = registrations.c
        counts: dict[str, list[int]] = {}
        for row in self._connection.execute(sa.select(r.partner_id, r.status, sa.func.count().label("n"))
                                            .where(r.status.in_(("won", "lost"))).group_by(r.partner_id, r.status)):
            counts.setdefault(row.partner_id, [0, 0])[0 if row.status == "won" else 1] += row.n
        return {partner: (won, lost) for partner, (won, lost) in counts.items()}


class TerritoryReadModel:
    """conflict's territories as deals needs them for leads: who owns a named account, who owns a country."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def upsert(self, territory: dict[str, Any]) -> None:
        """Keep the newest version; an older event arriving late changes nothing."""
        t = territories.c
        current = self._connection.execute(sa.select(t.version).where(t.name == territory["name"])).scalar_one_or_none()
        row = dict(name=territory["name"], owner=territory["owner"], version=territory["version"], document=territory)
        if current is None:
            self._connection.execute(territories.insert().values(**row))
        elif territory["version"] >= current:
            self._connection.execute(territories.update().where(t.name == territory["name"]).values(**row))

    def all(self) -> list[dict[str, Any]]:
        return list(self._connection.execute(sa.select(territories.c.document)
                                             .order_by(territories.c.name)).scalars())

