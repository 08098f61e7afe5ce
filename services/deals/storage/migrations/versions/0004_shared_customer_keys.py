"""Registrations' customer query columns recomputed with shared.identity, the normaliser conflict matches with.

Before, deals kept its own: free-mail domains were keys (two strangers on gmail.com looked like one customer),
fewer legal forms were set aside in name keys, and the tax id column kept the country prefix.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CUSTOMER_COLUMNS = ("customer_country", "customer_domain", "customer_tax_id", "customer_duns", "customer_name_key")
_BATCH = 1000


def upgrade() -> None:
    from services.deals.storage.repository import customer_columns

    connection = op.get_bind()
    table = sa.table("registrations", sa.column("id", sa.String), sa.column("document", sa.JSON),
                     *(sa.column(name, sa.String) for name in _CUSTOMER_COLUMNS))
    last_id = ""
    while True:  # in batches by id, so a large table is never read into memory at once
        rows = connection.execute(sa.select(table.c.id, table.c.document).where(table.c.id > last_id)
                                  .order_by(table.c.id).limit(_BATCH)).all()
        for row in rows:
            columns = customer_columns(row.document)
            connection.execute(table.update().where(table.c.id == row.id)
                               .values(**{name: columns[name] for name in _CUSTOMER_COLUMNS}))
        if len(rows) < _BATCH:
            break
        last_id = rows[-1].id


def downgrade() -> None:
    # No schema change to undo; the columns keep the shared normaliser's keys (deals' former one is gone).
    pass
