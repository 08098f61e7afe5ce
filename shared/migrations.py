"""Migration steps every service's first revision shares. Frozen: a later change gets a new function."""
from typing import Any

import sqlalchemy as sa


def create_messaging_tables_v1(op: Any) -> None:  # alembic.op, a module
    """The outbox and the processed-events inbox, as shared/outbox.py and shared/inbox.py map them."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"],
                    postgresql_where=sa.text("published_at IS NULL"), sqlite_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_messaging_tables_v1(op: Any) -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unpublished", "outbox")
    op.drop_table("outbox")


def add_outbox_dead_v2(op: Any) -> None:  # alembic.op, a module
    """The outbox's refusal counter, and outbox_dead for the rows the relay gave up on (shared/outbox.py)."""
    op.add_column("outbox", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "outbox_dead",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_outbox_dead_v2(op: Any) -> None:
    op.drop_table("outbox_dead")
    with op.batch_alter_table("outbox") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("attempts")


def add_retention_v3(op: Any, *, pruned_tables: tuple[str, ...]) -> None:  # alembic.op, a module
    """retention_pruned (shared/retention.py), a row per table its service prunes, and processed_events indexed by
    age where the service has an inbox, so that pruning it reads only the old rows."""
    op.create_table(
        "retention_pruned",
        sa.Column("table_name", sa.String(100), primary_key=True),
        sa.Column("pruned", sa.BigInteger, nullable=False),
        sa.Column("last_pruned_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(sa.table("retention_pruned", sa.column("table_name", sa.String), sa.column("pruned", sa.BigInteger)),
                   [{"table_name": name, "pruned": 0} for name in pruned_tables])
    if "processed_events" in pruned_tables:
        op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def drop_retention_v3(op: Any, *, pruned_tables: tuple[str, ...]) -> None:
    if "processed_events" in pruned_tables:
        op.drop_index("ix_processed_events_processed_at", "processed_events")
    op.drop_table("retention_pruned")


def add_audit_trail_v4(op: Any) -> None:  # alembic.op, a module
    """audit_log and audit_chain (shared/audit.py), both refusing UPDATE and DELETE through triggers."""
    from shared.audit import REFUSE_FUNCTION_POSTGRESQL, append_only_statements

    identity = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    op.create_table(
        "audit_log",
        sa.Column("id", identity, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("actor_subject", sa.String(255), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("correlation_id", sa.String(100)),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject", "id"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor_subject", "id"])
    op.create_table(
        "audit_chain",
        sa.Column("seq", identity, primary_key=True, autoincrement=False),
        sa.Column("entry_id", identity, nullable=False, unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(REFUSE_FUNCTION_POSTGRESQL)
    for table in ("audit_log", "audit_chain"):
        for statement in append_only_statements(dialect, table):
            op.execute(statement)


def drop_audit_trail_v4(op: Any) -> None:
    op.drop_table("audit_chain")  # dropping a table drops its triggers; only UPDATE and DELETE are refused
    op.drop_index("ix_audit_log_actor", "audit_log")
    op.drop_index("ix_audit_log_subject", "audit_log")
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS dealgate_audit_refuse_change()")
