"""Full-text search, offer reach for channel/region/private filters, and the catalog revision.

PostgreSQL gets a GIN index on a weighted tsvector expression; SQLite an FTS5 table kept in step by
triggers. Both index the same pre-folded words (services/catalog/domain/search.py), so both find the same.

Revision ID: 0002
Revises: 0001
"""
import json

import sqlalchemy as sa
from alembic import op

from services.catalog.domain.search import offer_audience, searchable_fields

# Keep in step with services/catalog/storage/reader.py, which must use this exact expression to hit the index.
PG_SEARCH_VECTOR = ("setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
                    "setweight(to_tsvector('simple'::regconfig, search_tags), 'B') || "
                    "setweight(to_tsvector('simple'::regconfig, search_summary), 'C')")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("listings", sa.Column("seq", sa.BigInteger, nullable=True))
    for name in ("search_title", "search_tags", "search_summary"):
        op.add_column("listings", sa.Column(name, sa.Text, nullable=False, server_default=""))
    op.create_table(
        "offer_reach",
        sa.Column("listing_id", sa.String(36), sa.ForeignKey("listings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("offer_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("audience", sa.String(253), nullable=False),
    )
    op.create_index("ix_offer_reach_listing", "offer_reach", ["listing_id", "audience"])
    op.create_table("catalog_revision", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("revision", sa.BigInteger, nullable=False))
    last_seq = _backfill(op.get_bind())
    op.execute(sa.text("INSERT INTO catalog_revision (id, revision) VALUES (1, :revision)")
               .bindparams(revision=last_seq))
    with op.batch_alter_table("listings") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger, nullable=False)
        batch.create_unique_constraint("uq_listings_seq", ["seq"])
    op.create_index("ix_listings_status_seq", "listings", ["status", "seq"])
    if dialect == "postgresql":
        # An expression index rather than a stored column: the query repeats PG_SEARCH_VECTOR verbatim.
        op.execute(f"CREATE INDEX ix_listings_search_vector ON listings USING GIN (({PG_SEARCH_VECTOR}))")
    elif dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE listings_fts USING fts5("
                   "search_title, search_tags, search_summary, tokenize = 'unicode61 remove_diacritics 2')")
        op.execute("INSERT INTO listings_fts (rowid, search_title, search_tags, search_summary) "
                   "SELECT seq, search_title, search_tags, search_summary FROM listings")
        op.execute("""CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
            INSERT INTO listings_fts (rowid, search_title, search_tags, search_summary)
            VALUES (new.seq, new.search_title, new.search_tags, new.search_summary); END""")
        op.execute("""CREATE TRIGGER listings_fts_update AFTER UPDATE ON listings BEGIN
            DELETE FROM listings_fts WHERE rowid = old.seq;
            INSERT INTO listings_fts (rowid, search_title, search_tags, search_summary)
            VALUES (new.seq, new.search_title, new.search_tags, new.search_summary); END""")
        op.execute("""CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
            DELETE FROM listings_fts WHERE rowid = old.seq; END""")


def _backfill(connection) -> int:
    """Give listings written before this revision their seq, search words and reach rows."""
    rows = connection.execute(sa.text("SELECT id, document FROM listings ORDER BY created_at, id")).all()
    for seq, (listing_id, document) in enumerate(rows, start=1):
        document = json.loads(document) if isinstance(document, str) else document
        fields = searchable_fields(document["title"], document["tags"], document["summary"])
        connection.execute(sa.text("UPDATE listings SET seq = :seq, search_title = :title, search_tags = :tags, "
                                   "search_summary = :summary WHERE id = :id"),
                           dict(seq=seq, id=listing_id, **fields))
        for offer in document["offers"]:
            for channel in offer["channels"]:
                for region in offer["regions"]:
                    connection.execute(sa.text(
                        "INSERT INTO offer_reach (listing_id, offer_id, channel, region, audience) "
                        "VALUES (:listing_id, :offer_id, :channel, :region, :audience)"),
                        dict(listing_id=listing_id, offer_id=offer["id"], channel=channel, region=region,
                             audience=offer_audience(offer)))
    return len(rows)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX ix_listings_search_vector")
    elif dialect == "sqlite":
        for trigger in ("listings_fts_insert", "listings_fts_update", "listings_fts_delete"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE listings_fts")
    op.drop_index("ix_listings_status_seq", "listings")
    op.drop_table("catalog_revision")
    op.drop_index("ix_offer_reach_listing", "offer_reach")
    op.drop_table("offer_reach")
    with op.batch_alter_table("listings") as batch:
        batch.drop_constraint("uq_listings_seq", type_="unique")
        for name in ("seq", "search_title", "search_tags", "search_summary"):
            batch.drop_column(name)
