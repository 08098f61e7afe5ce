"""Retention counts: retention_pruned, a row for each table pruned here (PRUNED_TABLES), read by /metrics;
processed_events indexed by age where there is an inbox (shared/retention.py).

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from shared.migrations import add_retention_v3, drop_retention_v3

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PRUNED_TABLES = ("outbox",)


def upgrade() -> None:
    add_retention_v3(op, pruned_tables=PRUNED_TABLES)


def downgrade() -> None:
    drop_retention_v3(op, pruned_tables=PRUNED_TABLES)
