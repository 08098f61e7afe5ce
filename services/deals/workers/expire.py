"""Expires registrations whose protection has passed, every minute: python -m services.deals.workers.expire

It also prunes idempotency keys older than 24 h and finished rate-limit windows, and runs bulk CSV imports in a
thread of its own (services/deals/import_runner.py), so every deployment of the deals jobs runs them.
"""
import threading

import structlog

from services.deals import handlers, lead_handlers
from services.deals.bootstrap import bootstrap
from services.deals.import_runner import ImportRunner
from services.deals.lead_settings import lead_policy
from services.deals.settings import DealsSettings
from shared.workers import start_worker, stop_on_signals, worker_health

log = structlog.get_logger(__name__)


def main() -> None:
    settings = start_worker(DealsSettings, "expire")
    deals = bootstrap(settings)
    stop = stop_on_signals()
    threading.Thread(target=ImportRunner(deals).run, args=(stop,), name="imports", daemon=True).start()
    interval_s = settings.expiry_interval_s
    # /healthz, /readyz, /metrics: one pass a minute, so a missed pass or two is not yet a hang
    health = worker_health("deals-expire", settings.worker_health_port, stale_after_s=max(120.0, 3 * interval_s))
    log.info("expiry.started", interval_s=interval_s)
    while not stop.is_set():
        try:
            expired = handlers.expire_due(uow_factory=deals.uow_factory)
            if expired:
                log.info("expiry.expired", count=expired)
            handlers.prune_bookkeeping(uow_factory=deals.uow_factory, limits=deals.limits)
            reassigned = lead_handlers.reassign_overdue(uow_factory=deals.uow_factory, policy=lead_policy(settings))
            if reassigned:
                log.info("leads.reassigned", count=reassigned)  # not accepted within their SLA
            health.passed()
        except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again next round
            log.warning("expiry.failed", error=str(exc))
            health.failed(f"{type(exc).__name__}: {exc}")
        stop.wait(interval_s)


if __name__ == "__main__":
    main()
