"""Set up front (issue 18): partner profiles, vendor leads, and the read model of conflict's territories.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_profiles",
        sa.Column("partner_id", sa.String(100), primary_key=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_index("ix_leads_assignee_status", "leads", ["assignee", "status"])
    op.create_index("ix_leads_status_due", "leads", ["status", "due_at"])
    op.create_index("ix_leads_created", "leads", ["created_at", "id"])
    op.create_table(
        "territories",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("territories")
    op.drop_index("ix_leads_created", table_name="leads")
    op.drop_index("ix_leads_status_due", table_name="leads")
    op.drop_index("ix_leads_assignee_status", table_name="leads")
    op.drop_table("leads")
    op.drop_table("partner_profiles")
