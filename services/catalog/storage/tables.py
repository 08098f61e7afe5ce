"""The catalog's tables (listings, plus the shared outbox and inbox)."""
from __future__ import annotations

import sqlalchemy as sa

from shared.inbox import define_inbox_table
from shared.outbox import define_outbox_table

metadata = sa.MetaData()

listings = sa.Table(
    "listings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("category", sa.String(100), nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = define_outbox_table(metadata)
processed_events = define_inbox_table(metadata)
