"""Idempotency records, rate-limit windows, and the registration columns that listing and the pre-check query.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CUSTOMER_COLUMNS = (
    ("channel", 16), ("customer_country", 2), ("customer_domain", 253), ("customer_tax_id", 40),
    ("customer_duns", 9), ("customer_name_key", 200),
)
_INDEXES = (
    ("ix_registrations_partner_recent", ["partner_id", "submitted_at", "id"], None),
    ("ix_registrations_recent", ["submitted_at", "id"], None),
    # Partial: most registrations lack a tax id or DUNS, and an absent key is never looked up.
    ("ix_registrations_customer_domain", ["customer_domain"], "customer_domain"),
    ("ix_registrations_customer_tax_id", ["customer_tax_id"], "customer_tax_id"),
    ("ix_registrations_customer_duns", ["customer_duns"], "customer_duns"),
    ("ix_registrations_customer_name", ["customer_name_key", "customer_country"], "customer_name_key"),
)


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        for name, length in _CUSTOMER_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length)))
    for name, columns, present in _INDEXES:
        where = sa.text(f"{present} IS NOT NULL") if present else None
        op.create_index(name, "registrations", columns, postgresql_where=where, sqlite_where=where)
    # (partner_id, submitted_at, id) serves every query (partner_id, id) did; one index less on each insert.
    op.drop_index("ix_registrations_partner", "registrations")
    _backfill_customer_keys()
    op.create_table(
        "idempotency_records",
        sa.Column("partner_id", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_body", sa.Text),
        sa.Column("response_headers", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_records_created", "idempotency_records", ["created_at"])
    op.create_table(
        "rate_limit_windows",
        sa.Column("bucket", sa.String(200), primary_key=True),
        sa.Column("window", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def _backfill_customer_keys() -> None:
    """Registrations written before this revision get their query columns from their documents."""
    from services.deals.storage.repository import customer_columns

    connection = op.get_bind()
    table = sa.table("registrations", sa.column("id", sa.String), sa.column("document", sa.JSON),
                     *(sa.column(name, sa.String) for name, _ in _CUSTOMER_COLUMNS))
    for row in connection.execute(sa.select(table.c.id, table.c.document)).all():
        connection.execute(table.update().where(table.c.id == row.id).values(**customer_columns(row.document)))


def downgrade() -> None:
    op.drop_table("rate_limit_windows")
    op.drop_index("ix_idempotency_records_created", "idempotency_records")
    op.drop_table("idempotency_records")
    op.create_index("ix_registrations_partner", "registrations", ["partner_id", "id"])
    for name, _, _ in reversed(_INDEXES):
        op.drop_index(name, "registrations")
    with op.batch_alter_table("registrations") as batch:
        for name, _ in reversed(_CUSTOMER_COLUMNS):
            batch.drop_column(name)
