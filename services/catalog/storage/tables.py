"""The catalog's tables: listings, where their offers reach, the catalog revision, and its outbox."""
from __future__ import annotations

import sqlalchemy as sa

from shared.audit import define_audit_tables
from shared.outbox import define_outbox_table
from shared.retention import define_retention_table

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
    # The catalog revision that created the listing: a unique, ever-growing number that orders pages and
    # keys the SQLite full-text index (PostgreSQL indexes an expression instead; see migration 0002).
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("search_title", sa.Text, nullable=False),
    sa.Column("search_tags", sa.Text, nullable=False),
    sa.Column("search_summary", sa.Text, nullable=False),
)

# One row per (offer, channel, region): what a reader filtering by channel or region may find, and for whom.
# audience is "*" for a public offer, else the partner id or customer domain of a private one.
offer_reach = sa.Table(
    "offer_reach", metadata,
    sa.Column("listing_id", sa.String(36), sa.ForeignKey("listings.id", ondelete="CASCADE"), nullable=False),
    sa.Column("offer_id", sa.String(36), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("audience", sa.String(253), nullable=False),
    sa.Index("ix_offer_reach_listing", "listing_id", "audience"),
)

# A single row counting every change to the catalog. Any listing write bumps it in its own transaction,
# so "revision unchanged" proves "every page unchanged": the ETag check needs nothing else.
catalog_revision = sa.Table(
    "catalog_revision", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
)

outbox = define_outbox_table(metadata)
retention_pruned = define_retention_table(metadata)  # how many rows retention deleted, per table
audit_log, audit_chain = define_audit_tables(metadata)  # the append-only audit trail and its seals
