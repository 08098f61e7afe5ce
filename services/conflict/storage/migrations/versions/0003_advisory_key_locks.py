"""Key locks are PostgreSQL advisory locks now; the table of lock rows goes.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("blocking_locks")


def downgrade() -> None:
    op.create_table("blocking_locks", sa.Column("key", sa.String(255), primary_key=True))
