"""Bulk imports: storing an uploaded CSV file as a job (or refusing it whole), and the runner that submits each
row exactly as POST /v1/deals would: the same schema, the same handler with the row's own idempotency key, so the
same product checks, idempotency and, downstream, conflict detection.

A job and all its rows are stored before the API answers 202. The runner (a thread of the deals jobs worker,
services/deals/workers/expire.py, or `python -m services.deals.workers.imports` alone) takes the oldest unfinished
job under a lease, submits its pending rows in order and writes their results batch by batch. If it stops, the
lease runs out and a runner takes the job over where the results stop; the rows it submits again replay through
their idempotency keys (a row without a key of its own gets `import:<job>:<line>`), so none is registered twice.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog
from marshmallow import ValidationError

from services.deals import handlers
from services.deals.api.schemas import DealSubmitSchema
from services.deals.domain.idempotency import IdempotencyConflict, request_fingerprint
from services.deals.domain.imports import read_import_file, row_errors_as_columns, submission_body
from services.deals.domain.model import DomainError
from services.deals.storage.imports import ImportStore
from shared.audit import bind_actor, unbind_actor
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import flatten_messages
from shared.logging import bind_correlation_id, unbind_request_context
from shared.worker_health import WorkerHealth

if TYPE_CHECKING:
    from services.deals.bootstrap import Deals

log = structlog.get_logger(__name__)
LEASE = dt.timedelta(seconds=30)
BATCH_ROWS = 25
POLL_INTERVAL_S = 0.5
TURN_S = 2.0  # how long one job runs before the next waiting job gets a turn


def start_import(raw: bytes, *, charset: str | None, filename: str | None, principal: Principal,
                 store: ImportStore, correlation_id: str | None) -> dict[str, Any]:
    """Check the whole file and store it as a queued job; ImportFileInvalid (nothing stored) if it is unusable."""
    rows = read_import_file(raw, charset=charset)
    job_id = str(uuid.uuid4())
    job = {"id": job_id, "owner_key": principal.owner_key, "principal": dataclasses.asdict(principal),
           "status": "queued", "filename": (filename or None) and filename[:255], "total_rows": len(rows),
           "processed_rows": 0, "created_rows": 0, "replayed_rows": 0, "failed_rows": 0,
           "correlation_id": correlation_id, "created_at": utcnow()}
    store.create(job, [{"job_id": job_id, "line": line, "status": "pending",
                        "idempotency_key": cells.get("idempotency_key") or f"import:{job_id}:{line}",
                        "body": submission_body(cells)} for line, cells in rows])
    return job


class ImportRunner:
    def __init__(self, deals: Deals, *, worker: str | None = None, batch_rows: int = BATCH_ROWS,
                 lease: dt.timedelta = LEASE, turn_s: float = TURN_S):
        self._deals = deals
        self._lease = lease
        self._turn_s = turn_s
        self._store = ImportStore(deals.engine)
        self._worker = worker or f"imports-{uuid.uuid4().hex[:8]}"
        self._batch_rows = batch_rows
        self._schema = DealSubmitSchema()

    def run(self, stop: threading.Event, poll_interval_s: float = POLL_INTERVAL_S,
            health: WorkerHealth | None = None) -> None:
        """Take and run jobs until stopped; a database that is away is tried again on the next round."""
        log.info("imports.runner_started", worker=self._worker)
        while not stop.is_set():
            try:
                ran = self.run_next(stop)
                if health is not None:
                    health.passed()
            except sa.exc.SQLAlchemyError as exc:
                log.warning("imports.round_failed", error=str(exc)[:200])
                if health is not None:
                    health.failed(f"{type(exc).__name__}: {exc}")
                ran = False
            if not ran:
                stop.wait(poll_interval_s)

    def run_next(self, stop: threading.Event | None = None) -> bool:
        """Run batches of the next job that is free to take, for up to TURN_S, then let other jobs have their turn;
        False if there was no job to run."""
        job = self._store.take_next(self._worker, lease=self._lease)
        if job is None:
            return False
        principal = Principal(**job["principal"])
        log.info("imports.job_turn", job=job["id"], rows=job["total_rows"], done=job["processed_rows"])
        turn_ends = time.monotonic() + self._turn_s
        while stop is None or not stop.is_set():
            pending = self._store.pending_rows(job["id"], self._batch_rows)
            if not pending:
                self._store.finish(job["id"], self._worker)
                log.info("imports.job_finished", job=job["id"], rows=job["total_rows"])
                return True
            results = [self.submit_row(job, principal, row) for row in pending]
            if not self._store.record(job["id"], self._worker, results, lease=self._lease):
                log.warning("imports.lease_lost", job=job["id"])  # another runner goes on with it
                return True
            if len(pending) < self._batch_rows:
                continue  # that was the last of them: finish now, whatever the time
            if time.monotonic() >= turn_ends:
                break
        self._store.release(job["id"], self._worker)
        return True

    def run_until_idle(self) -> None:
        """Every job to its end (tests, and a runner asked to drain)."""
        while self.run_next():
            pass

    def submit_row(self, job: dict[str, Any], principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
        """One row as a single submission by the importing principal would go; its result for the report."""
        body, key, line = row["body"], row["idempotency_key"], row["line"]
        bind_correlation_id(f"{job['correlation_id'] or job['id']}:{line}"[:100])
        actor = bind_actor(principal.sub, principal.role)
        try:
            try:
                command = self._schema.load(body)
            except ValidationError as exc:
                return _failed(line, 422, row_errors_as_columns(flatten_messages(exc.messages)))
            command = dataclasses.replace(command, idempotency_key=key, request_fingerprint=request_fingerprint(body))
            try:
                submission = handlers.submit_deal(command, principal=principal, limits=self._deals.limits,
                                                  uow_factory=self._deals.uow_factory)
            except IdempotencyConflict as exc:
                return _failed(line, 409, {"idempotency_key": [str(exc)]})
            except handlers.ProductsUnavailable as exc:
                return _failed(line, 422, row_errors_as_columns(exc.errors))
            except DomainError as exc:
                return _failed(line, 422, {getattr(exc, "field", None) or "row": [str(exc)]})
        finally:
            unbind_actor(actor)
            unbind_request_context()  # the row's correlation id ends with the row
        # A replay of the key this import gave the row is this import's own registration, met again on a resume.
        own_key = key.startswith(f"import:{job['id']}:")
        replayed = submission.replayed and not own_key
        return {"line": line, "status": "replayed" if replayed else "created", "deal_id": submission.deal_id,
                "http_status": 201}


def _failed(line: int, status: int, errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"line": line, "status": "failed", "http_status": status, "errors": errors}
