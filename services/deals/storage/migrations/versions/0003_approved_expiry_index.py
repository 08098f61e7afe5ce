"""The expiry index holds approved registrations only, so a submission does not maintain it.

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
    approved = sa.text("status = 'approved'")
    op.create_index("ix_registrations_approved_until", "registrations", ["protection_until"],
                    postgresql_where=approved, sqlite_where=approved)
    op.drop_index("ix_registrations_status", "registrations")


def downgrade() -> None:
    op.create_index("ix_registrations_status", "registrations", ["status", "protection_until"])
    op.drop_index("ix_registrations_approved_until", "registrations")
