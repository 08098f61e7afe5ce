"""The deals database: registrations, the catalog read model, idempotency records, rate-limit windows, and the
shared outbox and inbox."""
from __future__ import annotations

import sqlalchemy as sa

from shared.audit import define_audit_tables
from shared.inbox import define_inbox_table
from shared.outbox import define_outbox_table
from shared.retention import define_retention_table

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
    # Copies of document fields that queries filter on: the listing filters and the pre-check's customer keys.
    sa.Column("channel", sa.String(16)),
    sa.Column("customer_country", sa.String(2)),
    sa.Column("customer_domain", sa.String(253)),
    sa.Column("customer_tax_id", sa.String(40)),
    sa.Column("customer_duns", sa.String(9)),
    sa.Column("customer_name_key", sa.String(200)),
    sa.Index("ix_registrations_partner_recent", "partner_id", "submitted_at", "id"),
    sa.Index("ix_registrations_recent", "submitted_at", "id"),
)


def _partial_index(name: str, *columns: sa.Column) -> sa.Index:
    """Indexed only where the key is present: most registrations lack a tax id or DUNS, and absent keys are
    never looked up."""
    present = columns[0].isnot(None)
    return sa.Index(name, *columns, postgresql_where=present, sqlite_where=present)


# The expiry worker's query (approved, protection ending first). Only approved rows are in it, so a
# submission, the hot path, does not maintain it.
_approved = registrations.c.status == "approved"
sa.Index("ix_registrations_approved_until", registrations.c.protection_until,
         postgresql_where=_approved, sqlite_where=_approved)
_partial_index("ix_registrations_customer_domain", registrations.c.customer_domain)
_partial_index("ix_registrations_customer_tax_id", registrations.c.customer_tax_id)
_partial_index("ix_registrations_customer_duns", registrations.c.customer_duns)
_partial_index("ix_registrations_customer_name", registrations.c.customer_name_key, registrations.c.customer_country)

# What deals knows of the catalog, rebuilt from the compacted catalog.listings.v1 topic.
catalog_listings = sa.Table(
    "catalog_listings", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)

# One row per (partner, Idempotency-Key): claimed "in_flight" in its own short transaction, then "done" in the
# same transaction as the registration it answered, so a replay always matches what was committed.
idempotency_records = sa.Table(
    "idempotency_records", metadata,
    sa.Column("partner_id", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.Text),
    sa.Column("response_headers", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_idempotency_records_created", "created_at"),
)

# Fixed-window request counters shared by every API process (used where a per-process limit is too weak).
rate_limit_windows = sa.Table(
    "rate_limit_windows", metadata,
    sa.Column("bucket", sa.String(200), primary_key=True),
    sa.Column("window", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

outbox = define_outbox_table(metadata)
retention_pruned = define_retention_table(metadata)  # how many rows retention deleted, per table
audit_log, audit_chain = define_audit_tables(metadata)  # the append-only audit trail and its seals
processed_events = define_inbox_table(metadata)

# Issue 18, set up front. Partner profiles (PUT /v1/partners/{id}); published on deals.partners.v1.
partner_profiles = sa.Table(
    "partner_profiles", metadata,
    sa.Column("partner_id", sa.String(100), primary_key=True),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)

# Vendor leads: the assignee and due time are columns for the partner's inbox and the SLA job.
leads = sa.Table(
    "leads", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("assignee", sa.String(100)),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Index("ix_leads_assignee_status", "assignee", "status"),
    sa.Index("ix_leads_status_due", "status", "due_at"),
    sa.Index("ix_leads_created", "created_at", "id"),
)

# What deals knows of conflict's territories (from the compacted conflicts.territories.v1): named accounts and
# countries, for routing leads.
territories = sa.Table(
    "territories", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)
