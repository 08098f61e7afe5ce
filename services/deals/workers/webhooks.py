"""Sends partners' webhooks: python -m services.deals.workers.webhooks

Consumes deals.registrations.v1 in a consumer group of its own (DEALS_CONSUMER_GROUP + "-webhooks"), with its
own inbox table, and queues a message per subscribed endpoint in the same transaction as the inbox record. A
background loop sends what is due (first attempts at once, retries on the reference schedule), and queues
deal.expiring for protections ending within 7 days. Nothing is ever sent from a request thread.
"""
from __future__ import annotations

import datetime as dt
import threading

import structlog

from services.deals import webhook_handlers
from services.deals.bootstrap import bootstrap
from services.deals.settings import DealsSettings
from services.deals.storage.webhooks import WebhooksUnitOfWork, webhook_inbox
from services.deals.webhook_sender import HttpSender, Sender, resolve
from shared.retention import DAY_S, Retention
from shared.topics import DEALS_REGISTRATIONS
from shared.workers import run_consumer, start_worker, worker_health

log = structlog.get_logger(__name__)
HANDLED = ("deal.approved", "deal.updated", "deal.rejected", "deal.expired")
EXPIRING_SCAN_S = 60.0
BATCH = 20  # deliveries taken per pass
# Queuing a delivery is off the verdict path and a partner sees it a quarter second later at most, so the
# consumer lets events gather that long between passes: one transaction and offset commit for many events.
QUEUE_GATHER_S = 0.25


class DeliveryLoop:
    """Sends due deliveries until stopped; every EXPIRING_SCAN_S it also queues deal.expiring notices."""

    def __init__(self, uow_factory, *, sender: Sender, development: bool, poll_s: float, timeout_s: float,
                 resolver=resolve, batch: int = BATCH):
        self._uow_factory = uow_factory
        self._sender = sender
        self._development = development
        self._poll_s = poll_s
        self._resolve = resolver
        self._batch = batch
        # A pass sends its batch one after another: the rows stay taken until the slowest possible pass is over,
        # so another worker never sends one of them meanwhile.
        self._lease = dt.timedelta(seconds=batch * (timeout_s + 5))

    def keep_delivering(self, stop: threading.Event) -> None:
        since_scan = EXPIRING_SCAN_S
        while not stop.is_set():
            attempted = 0
            try:
                if since_scan >= EXPIRING_SCAN_S:
                    since_scan = 0.0
                    with self._uow_factory() as uow:
                        queued = webhook_handlers.enqueue_expiring(uow)
                        uow.commit()
                    if queued:
                        log.info("webhook.expiring_queued", count=queued)
                attempted = webhook_handlers.deliver_due(self._uow_factory, sender=self._sender,
                                                         resolve=self._resolve, development=self._development,
                                                         batch=self._batch, lease=self._lease)
            except Exception as exc:  # noqa: BLE001 - the database may be restarting; try again next round
                log.warning("webhook.delivery_pass_failed", error=str(exc)[:300])
            if not attempted:  # a full batch means more may be due: go on at once
                stop.wait(self._poll_s)
                since_scan += self._poll_s


def main() -> None:
    settings = start_worker(DealsSettings, "webhooks")
    deals = bootstrap(settings)

    def uow_factory() -> WebhooksUnitOfWork:
        return WebhooksUnitOfWork(deals.engine)

    loop = DeliveryLoop(uow_factory, sender=HttpSender(timeout_s=settings.webhook_timeout_s),
                        development=not settings.is_production, poll_s=settings.webhook_poll_s,
                        timeout_s=settings.webhook_timeout_s)
    handlers = dict.fromkeys(HANDLED, webhook_handlers.on_deals_event)
    health = worker_health("deals-webhooks", settings.worker_health_port)  # /healthz, /readyz, /metrics
    run_consumer(service="deals-webhooks", bus=deals.bus, topics=[DEALS_REGISTRATIONS],
                 health=health, gather_s=max(QUEUE_GATHER_S, settings.batch_gather_s),
                 group=f"{settings.consumer_group}-webhooks", uow_factory=uow_factory, handlers=handlers,
                 background=(loop.keep_delivering,
                             Retention(deals.engine, webhook_inbox, webhook_inbox.c.processed_at,
                                       keep_s=settings.retention_days * DAY_S,
                                       every_s=settings.retention_interval_s).keep_pruning))


if __name__ == "__main__":
    main()
