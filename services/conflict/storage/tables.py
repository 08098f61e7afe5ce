"""The conflict database: tracked registrations and their keys, cases, the listing titles read model, outbox, inbox."""
from __future__ import annotations

import sqlalchemy as sa

from shared.audit import define_audit_tables
from shared.inbox import define_inbox_table
from shared.outbox import define_outbox_table
from shared.retention import define_retention_table

metadata = sa.MetaData()
KEY_LENGTH = 255

registrations = sa.Table(
    "registrations", metadata,
    sa.Column("deal_id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("case_id", sa.String(36)),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
    sa.Column("document", sa.JSON, nullable=False),
)

# The blocking keys each registration is filed under (the same keys the in-memory MatchIndex posts), so that
# a consumer can find registrations another consumer process recorded: an indexed lookup, never a scan.
registration_keys = sa.Table(
    "registration_keys", metadata,
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("deal_id", sa.String(36), primary_key=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_registration_keys_key_recorded", "key", "recorded_at"),
    sa.Index("ix_registration_keys_deal", "deal_id"),
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("queue", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sla_due_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Index("ix_cases_queue_status", "queue", "status"),
)

# The catalog's listings as conflict needs them (from catalog.listings.v1): titles, so the desk names products.
listing_titles = sa.Table(
    "listing_titles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

outbox = define_outbox_table(metadata)
retention_pruned = define_retention_table(metadata)  # how many rows retention deleted, per table
audit_log, audit_chain = define_audit_tables(metadata)  # the append-only audit trail and its seals
processed_events = define_inbox_table(metadata)

# Set up front (issue 18, migration 0011): territories (the current version of each), every version with who
# made it, and the partner profiles conflict learns from deals.partners.v1 (owners, and where each may sell).
territories = sa.Table(
    "territories", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)
territory_versions = sa.Table(
    "territory_versions", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("changed_by", sa.String(200), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)
partner_profiles = sa.Table(
    "partner_profiles", metadata,
    sa.Column("partner_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)
# The desk's lead board (migration 0012): the latest state of each vendor lead, from deals.leads.v1.
lead_board = sa.Table(
    "lead_board", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("assignee", sa.String(100)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Index("ix_lead_board_created", "created_at", "id"),
)

# Channel analytics read registrations and cases by time window (migration 0005).
sa.Index("ix_registrations_recorded_at", registrations.c.recorded_at)
sa.Index("ix_cases_opened_at", cases.c.opened_at)
