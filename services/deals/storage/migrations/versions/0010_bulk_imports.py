"""Bulk imports (issue 14 section 3): import_jobs, one per uploaded CSV file, and import_rows, each row with its
result; both written before the 202, so a job survives a restart and goes on where it stopped.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_key", sa.String(100), nullable=False),
        sa.Column("principal", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("total_rows", sa.Integer, nullable=False),
        sa.Column("processed_rows", sa.Integer, nullable=False),
        sa.Column("created_rows", sa.Integer, nullable=False),
        sa.Column("replayed_rows", sa.Integer, nullable=False),
        sa.Column("failed_rows", sa.Integer, nullable=False),
        sa.Column("correlation_id", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_import_jobs_owner", "import_jobs", ["owner_key", "created_at"])
    op.create_index("ix_import_jobs_unfinished", "import_jobs", ["created_at"],
                    postgresql_where=sa.text("status IN ('queued', 'running')"),
                    sqlite_where=sa.text("status IN ('queued', 'running')"))
    op.create_table(
        "import_rows",
        sa.Column("job_id", sa.String(36), sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("body", sa.JSON),
        sa.Column("deal_id", sa.String(36)),
        sa.Column("http_status", sa.Integer),
        sa.Column("errors", sa.JSON),
    )


def downgrade() -> None:
    op.drop_table("import_rows")
    op.drop_index("ix_import_jobs_unfinished", "import_jobs")
    op.drop_index("ix_import_jobs_owner", "import_jobs")
    op.drop_table("import_jobs")
