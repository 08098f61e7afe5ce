"""The outbox's refusal counter, and outbox_dead: rows the relay gave up on after the broker refused them.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from shared.migrations import add_outbox_dead_v2, drop_outbox_dead_v2

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_dead_v2(op)


def downgrade() -> None:
    drop_outbox_dead_v2(op)
