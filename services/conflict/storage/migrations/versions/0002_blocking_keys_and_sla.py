"""Blocking keys and key locks for concurrent verdicts; registration record time; case SLA column.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("sla_due_at", sa.DateTime(timezone=True)))
    op.create_table(
        "registration_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("deal_id", sa.String(36), primary_key=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_registration_keys_key_recorded", "registration_keys", ["key", "recorded_at"])
    op.create_index("ix_registration_keys_deal", "registration_keys", ["deal_id"])
    op.create_table("blocking_locks", sa.Column("key", sa.String(255), primary_key=True))


def downgrade() -> None:
    op.drop_table("blocking_locks")
    op.drop_index("ix_registration_keys_deal", "registration_keys")
    op.drop_index("ix_registration_keys_key_recorded", "registration_keys")
    op.drop_table("registration_keys")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("sla_due_at")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("recorded_at")
