"""The deals database: registrations, the catalog read model, and the shared outbox and inbox."""
from __future__ import annotations

import sqlalchemy as sa

from shared.inbox import define_inbox_table
from shared.outbox import define_outbox_table

metadata = sa.MetaData()

registrations = sa.Table(
    "registrations", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("protection_until", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Index("ix_registrations_partner", "partner_id", "id"),
    sa.Index("ix_registrations_status", "status", "protection_until"),
)

# What deals knows of the catalog, rebuilt from the compacted catalog.listings.v1 topic.
catalog_listings = sa.Table(
    "catalog_listings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)

outbox = define_outbox_table(metadata)
processed_events = define_inbox_table(metadata)
