"""Channel analytics: indexes for reading registrations and cases by time window.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_registrations_recorded_at", "registrations", ["recorded_at"])
    op.create_index("ix_cases_opened_at", "cases", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_opened_at", "cases")
    op.drop_index("ix_registrations_recorded_at", "registrations")
