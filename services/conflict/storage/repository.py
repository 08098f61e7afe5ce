"""Tracked registrations and cases, as rows."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.conflict.domain.model import ACTIVE_DEAL_STATUSES, Case, TrackedRegistration
from services.conflict.storage.tables import cases, registrations


class TrackedRegistrationRepository:
    def __init__(self, connection: Connection):
        self._connection = connection

    def get(self, deal_id: str) -> TrackedRegistration | None:
        document = self._connection.execute(
            sa.select(registrations.c.document).where(registrations.c.deal_id == deal_id)).scalar_one_or_none()
        return TrackedRegistration(**document) if document else None

    def upsert(self, registration: TrackedRegistration) -> None:
        row = dict(partner_id=registration.partner_id, status=registration.status, case_id=registration.case_id,
                   document=registration.to_dict())
        updated = self._connection.execute(
            registrations.update().where(registrations.c.deal_id == registration.deal_id).values(**row))
        if updated.rowcount == 0:
            self._connection.execute(registrations.insert().values(deal_id=registration.deal_id, **row))

    def all_active(self) -> list[TrackedRegistration]:
        rows = self._connection.execute(
            sa.select(registrations.c.document).where(registrations.c.status.in_(ACTIVE_DEAL_STATUSES))).scalars()
        return [TrackedRegistration(**document) for document in rows]


class CaseRepository:
    def __init__(self, connection: Connection):
        self._connection = connection

    def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        query = sa.select(cases.c.document).where(cases.c.id == case_id)
        if for_update:
            query = query.with_for_update()
        document = self._connection.execute(query).scalar_one_or_none()
        return Case.from_dict(document) if document else None

    def add(self, case: Case) -> None:
        self._connection.execute(cases.insert().values(**_row(case)))

    def save(self, case: Case) -> None:
        self._connection.execute(cases.update().where(cases.c.id == case.id).values(**_row(case)))

    def list(self, *, queue: str | None, status: str | None, limit: int, after_id: str | None) -> list[Case]:
        query = sa.select(cases.c.document).order_by(cases.c.id).limit(limit)
        if queue:
            query = query.where(cases.c.queue == queue)
        if status:
            query = query.where(cases.c.status == status)
        if after_id:
            query = query.where(cases.c.id > after_id)
        return [Case.from_dict(d) for d in self._connection.execute(query).scalars()]


def _row(case: Case) -> dict:
    return dict(id=case.id, queue=case.queue, status=case.status, opened_at=case.opened_at, version=case.version,
                document=case.to_dict())
