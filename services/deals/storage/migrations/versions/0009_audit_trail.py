"""The audit trail: audit_log (one entry per state change, appended in its transaction) and audit_chain (the
hash chain sealing them), both refusing UPDATE and DELETE by trigger (shared/audit.py).

Revision ID: 0009
Revises: 0008
"""
from alembic import op

from shared.migrations import add_audit_trail_v4, drop_audit_trail_v4

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_audit_trail_v4(op)


def downgrade() -> None:
    drop_audit_trail_v4(op)
