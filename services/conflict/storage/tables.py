"""The conflict database: tracked registrations, cases, and the shared outbox and inbox."""
from __future__ import annotations

import sqlalchemy as sa

from shared.inbox import define_inbox_table
from shared.outbox import define_outbox_table

metadata = sa.MetaData()

registrations = sa.Table(
    "registrations", metadata,
    sa.Column("deal_id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("case_id", sa.String(36)),
    sa.Column("document", sa.JSON, nullable=False),
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("queue", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Index("ix_cases_queue_status", "queue", "status"),
)

outbox = define_outbox_table(metadata)
processed_events = define_inbox_table(metadata)
