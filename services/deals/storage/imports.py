"""Bulk import tables (migration 0010) and their repository: the API stores a job with all its rows before it
answers 202, the imports runner takes jobs under a lease and writes each row's result."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.deals.storage.tables import metadata, registrations
from shared.clock import utcnow

import_jobs = sa.Table(
    "import_jobs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_key", sa.String(100), nullable=False),
    sa.Column("principal", sa.JSON, nullable=False),  # who imports: every row is submitted as them
    sa.Column("status", sa.String(16), nullable=False),  # queued, running, done
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
    sa.Index("ix_import_jobs_owner", "owner_key", "created_at"),
)
_unfinished = import_jobs.c.status.in_(("queued", "running"))
sa.Index("ix_import_jobs_unfinished", import_jobs.c.created_at, postgresql_where=_unfinished,
         sqlite_where=_unfinished)

import_rows = sa.Table(
    "import_rows", metadata,
    sa.Column("job_id", sa.String(36), sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),  # the row's line in the file (the header is line 1)
    sa.Column("status", sa.String(16), nullable=False),  # pending, created, replayed, failed
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("body", sa.JSON),  # the row as a submission body; dropped once the row is done (personal data)
    sa.Column("deal_id", sa.String(36)),
    sa.Column("http_status", sa.Integer),  # what a single submission would have answered: 201, 200, 409, 422
    sa.Column("errors", sa.JSON),
)


class ImportStore:
    """Every read and write of import jobs; each method is its own short transaction."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def create(self, job: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        with self._engine.begin() as connection:
            connection.execute(import_jobs.insert().values(**job))
            for start in range(0, len(rows), 1000):
                connection.execute(import_rows.insert(), rows[start:start + 1000])

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id)).mappings().first()
        return dict(row) if row else None

    def rows(self, job_id: str, *, after_line: int, limit: int) -> list[dict[str, Any]]:
        """Row results with each registration's current status (what conflict detection made of it since)."""
        query = (sa.select(import_rows.c.line, import_rows.c.status, import_rows.c.idempotency_key,
                           import_rows.c.deal_id, import_rows.c.http_status, import_rows.c.errors,
                           registrations.c.status.label("deal_status"))
                 .select_from(import_rows.outerjoin(registrations, registrations.c.id == import_rows.c.deal_id))
                 .where(import_rows.c.job_id == job_id, import_rows.c.line > after_line)
                 .order_by(import_rows.c.line).limit(limit))
        with self._engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def take_next(self, worker: str, *, lease: dt.timedelta, now: dt.datetime | None = None) -> dict[str, Any] | None:
        """An unfinished job whose lease is free (released after a batch, or run out: its runner stopped), leased
        to `worker`: a new job first, else the one released longest ago, so jobs take turns batch by batch and a
        small file is not stuck behind a large one."""
        now = now or utcnow()
        with self._engine.begin() as connection:
            candidates = connection.execute(
                sa.select(import_jobs.c.id).where(_unfinished)
                .where(sa.or_(import_jobs.c.lease_until.is_(None), import_jobs.c.lease_until < now))
                .order_by(import_jobs.c.lease_until.is_not(None), import_jobs.c.lease_until,
                          import_jobs.c.created_at).limit(5)).scalars().all()
            for job_id in candidates:
                taken = connection.execute(
                    import_jobs.update().where(import_jobs.c.id == job_id, _unfinished)
                    .where(sa.or_(import_jobs.c.lease_until.is_(None), import_jobs.c.lease_until < now))
                    .values(status="running", lease_owner=worker, lease_until=now + lease,
                            started_at=sa.func.coalesce(import_jobs.c.started_at, now)))
                if taken.rowcount == 1:
                    row = connection.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id)).mappings().one()
                    return dict(row)
        return None

    def pending_rows(self, job_id: str, limit: int) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            return [dict(row) for row in connection.execute(
                sa.select(import_rows.c.line, import_rows.c.idempotency_key, import_rows.c.body)
                .where(import_rows.c.job_id == job_id, import_rows.c.status == "pending")
                .order_by(import_rows.c.line).limit(limit)).mappings()]

    def record(self, job_id: str, worker: str, results: list[dict[str, Any]], *, lease: dt.timedelta) -> bool:
        """Write a batch of row results and the job's counts, and renew the lease; False if the lease was lost
        (another runner took the job over: it will redo these rows, which replay)."""
        now = utcnow()
        with self._engine.begin() as connection:
            renewed = connection.execute(import_jobs.update().where(
                import_jobs.c.id == job_id, import_jobs.c.lease_owner == worker).values(lease_until=now + lease))
            if renewed.rowcount != 1:
                return False
            counts = {"created": 0, "replayed": 0, "failed": 0}
            for result in results:
                updated = connection.execute(import_rows.update().where(
                    import_rows.c.job_id == job_id, import_rows.c.line == result["line"],
                    import_rows.c.status == "pending").values(
                    status=result["status"], deal_id=result.get("deal_id"), http_status=result["http_status"],
                    errors=result.get("errors"), body=None))
                if updated.rowcount == 1:
                    counts[result["status"]] += 1
            connection.execute(import_jobs.update().where(import_jobs.c.id == job_id).values(
                processed_rows=import_jobs.c.processed_rows + sum(counts.values()),
                created_rows=import_jobs.c.created_rows + counts["created"],
                replayed_rows=import_jobs.c.replayed_rows + counts["replayed"],
                failed_rows=import_jobs.c.failed_rows + counts["failed"]))
        return True

    def release(self, job_id: str, worker: str) -> None:
        """Let the job's next batch go to whichever runner asks next (after the jobs waiting longer)."""
        with self._engine.begin() as connection:
            connection.execute(import_jobs.update().where(
                import_jobs.c.id == job_id, import_jobs.c.lease_owner == worker).values(
                lease_owner=None, lease_until=utcnow()))

    def finish(self, job_id: str, worker: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(import_jobs.update().where(
                import_jobs.c.id == job_id, import_jobs.c.lease_owner == worker).values(
                status="done", finished_at=utcnow(), lease_owner=None, lease_until=None))
