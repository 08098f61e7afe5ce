"""The windowed reads behind channel analytics: registrations grouped in SQL, and the window's cases narrowly.

Portable to PostgreSQL and SQLite: JSON fields are read through SQLAlchemy's JSON indexing, and the windows use
the recorded_at and opened_at indexes of migration 0005.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.conflict.analytics import AUTO_RESOLVED_QUEUE, CaseRow, Facts, RegistrationGroup
from services.conflict.storage.tables import cases, registrations


class SqlAnalyticsSource:
    def __init__(self, engine: Engine):
        self._engine = engine

    def read(self, start: dt.datetime, end: dt.datetime) -> Facts:
        """Registrations recorded and cases opened in [start, end) (aware datetimes, compared in UTC)."""
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        with self._engine.connect() as connection:
            groups = [RegistrationGroup(partner_id=row.partner_id, channel=row.channel or "unknown",
                                        country=row.country, registrations=int(row.registrations),
                                        in_cases=int(row.in_cases or 0))
                      for row in connection.execute(_registration_groups(start, end))]
            rows = connection.execute(
                sa.select(cases.c.id, cases.c.queue, cases.c.status, cases.c.opened_at, cases.c.sla_due_at,
                          cases.c.document["registrations"].label("registrations"),
                          cases.c.document["resolution"].label("resolution"))
                .where(cases.c.opened_at >= start, cases.c.opened_at < end))
            found = [CaseRow(id=row.id, queue=row.queue, status=row.status, opened_at=_utc(row.opened_at),
                             sla_due_at=_utc(row.sla_due_at) if row.sla_due_at else None,
                             registrations=list(row.registrations or []), resolution=row.resolution or None)
                     for row in rows]
        return Facts(registrations=groups, cases=found)


def _registration_groups(start: dt.datetime, end: dt.datetime) -> sa.Select[tuple[str, str, str, int, int]]:
    # Grouped over a subquery: PostgreSQL cannot tell that two renderings of one JSON expression, each with its
    # own bound parameter, are the same grouping key.
    in_case = sa.case((cases.c.id.is_not(None), 1), else_=0)
    rows = (sa.select(registrations.c.partner_id,
                      registrations.c.document["channel"].as_string().label("channel"),
                      registrations.c.document[("customer", "country")].as_string().label("country"),
                      in_case.label("in_case"))
            .select_from(registrations.outerjoin(cases, sa.and_(cases.c.id == registrations.c.case_id,
                                                                cases.c.queue != AUTO_RESOLVED_QUEUE)))
            .where(registrations.c.recorded_at >= start, registrations.c.recorded_at < end)
            .subquery())
    return (sa.select(rows.c.partner_id, rows.c.channel, rows.c.country, sa.func.count().label("registrations"),
                      sa.func.sum(rows.c.in_case).label("in_cases"))
            .group_by(rows.c.partner_id, rows.c.channel, rows.c.country))


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment  # SQLite hands back naive UTC
