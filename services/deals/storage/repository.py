"""Registrations and the catalog read model, as rows."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.deals.domain.model import Registration
from services.deals.storage.tables import catalog_listings, registrations


class RegistrationRepository:
    def __init__(self, connection: Connection):
        self._connection = connection

    def get(self, registration_id: str, *, for_update: bool = False) -> Registration | None:
        query = sa.select(registrations.c.document).where(registrations.c.id == registration_id)
        if for_update:
            query = query.with_for_update()
        document = self._connection.execute(query).scalar_one_or_none()
        return Registration.from_dict(document) if document else None

    def add(self, registration: Registration) -> None:
        self._connection.execute(registrations.insert().values(**_row(registration)))

    def save(self, registration: Registration) -> None:
        self._connection.execute(registrations.update().where(registrations.c.id == registration.id)
                                 .values(**_row(registration)))

    def due_for_expiry(self, now, limit: int) -> list[str]:
        return list(self._connection.execute(
            sa.select(registrations.c.id).where(registrations.c.status == "approved",
                                                registrations.c.protection_until < now)
            .order_by(registrations.c.protection_until).limit(limit)).scalars())

    def list(self, *, partner_id: str | None, status: str | None, limit: int,
             after_id: str | None = None) -> list[Registration]:
        query = sa.select(registrations.c.document).order_by(registrations.c.id).limit(limit)
        if partner_id is not None:
            query = query.where(registrations.c.partner_id == partner_id)
        if status:
            query = query.where(registrations.c.status == status)
        if after_id:
            query = query.where(registrations.c.id > after_id)
        return [Registration.from_dict(d) for d in self._connection.execute(query).scalars()]


def _row(registration: Registration) -> dict:
    return dict(id=registration.id, partner_id=registration.partner_id, status=registration.status,
                submitted_at=registration.submitted_at, protection_until=registration.protection_until,
                version=registration.version, document=registration.to_dict())


class CatalogReadModel:
    def __init__(self, connection: Connection):
        self._connection = connection

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

    def get_many(self, listing_ids: list[str]) -> dict[str, dict]:
        rows = self._connection.execute(
            sa.select(catalog_listings.c.document).where(catalog_listings.c.id.in_(listing_ids))).scalars()
        return {document["id"]: document for document in rows}
