"""Consumes registrations (a verdict for each) and catalog listings: python -m services.conflict.workers.consume

On start it rebuilds the in-memory match index from the database, then keeps it current from the events.
"""
from services.conflict import handlers
from services.conflict.bootstrap import bootstrap
from services.conflict.settings import ConflictSettings
from services.conflict.storage import tables
from shared.db import PlannerStatistics
from shared.retention import DAY_S, Retention
from shared.workers import run_consumer, start_worker, worker_health

# The tables every verdict reads by key and writes to (the outbox is the relay's to read).
GROWING_TABLES = ("registrations", "registration_keys", "cases", "processed_events", "outbox")


def main() -> None:
    settings = start_worker(ConflictSettings, "consumer")
    conflict = bootstrap(settings)
    health = worker_health("conflict-consume", settings.worker_health_port)  # /healthz, /readyz, /metrics
    run_consumer(service="conflict", bus=conflict.bus, topics=list(handlers.CONSUMED_TOPICS),
                 health=health, gather_s=settings.batch_gather_s,
                 group=settings.consumer_group, uow_factory=conflict.uow_factory,
                 handlers=handlers.consumer_handlers(detector=conflict.detector, rules=conflict.rules),
                 before_batch=handlers.batch_locks(conflict.detector),
                 faults=settings.faults, prepare=lambda: conflict.detector.rebuild(conflict.uow_factory),
                 background=(PlannerStatistics(conflict.engine, GROWING_TABLES).keep_fresh,
                             Retention(conflict.engine, tables.processed_events, tables.processed_events.c.processed_at,
                                       keep_s=settings.retention_days * DAY_S,
                                       every_s=settings.retention_interval_s).keep_pruning))


if __name__ == "__main__":
    main()
