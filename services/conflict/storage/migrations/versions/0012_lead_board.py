"""The desk's lead board (issue 18): the latest state of each vendor lead, read from deals.leads.v1.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_board",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_index("ix_lead_board_created", "lead_board", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_lead_board_created", table_name="lead_board")
    op.drop_table("lead_board")
