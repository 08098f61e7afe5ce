"""Consumes catalog listings and conflict verdicts: python -m services.deals.workers.consume"""
from services.deals import handlers
from services.deals.bootstrap import bootstrap
from services.deals.settings import DealsSettings
from services.deals.storage import tables
from shared.db import PlannerStatistics
from shared.retention import DAY_S, Retention
from shared.workers import run_consumer, start_worker, worker_health

# Registrations grow with every submission; the consumer and the API read them by key.
GROWING_TABLES = ("registrations", "processed_events", "outbox")


def main() -> None:
    settings = start_worker(DealsSettings, "consumer")
    deals = bootstrap(settings)
    health = worker_health("deals-consume", settings.worker_health_port)  # /healthz, /readyz, /metrics
    run_consumer(service="deals", bus=deals.bus, topics=list(handlers.CONSUMED_TOPICS),
                 health=health, gather_s=settings.batch_gather_s,
                 group=settings.consumer_group, uow_factory=deals.uow_factory,
                 handlers=handlers.consumer_handlers(deals.policy), faults=settings.faults,
                 background=(PlannerStatistics(deals.engine, GROWING_TABLES).keep_fresh,
                             Retention(deals.engine, tables.processed_events, tables.processed_events.c.processed_at,
                                       keep_s=settings.retention_days * DAY_S,
                                       every_s=settings.retention_interval_s).keep_pruning))


if __name__ == "__main__":
    main()
