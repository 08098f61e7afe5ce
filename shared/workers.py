"""Process entry helpers for the background workers every service runs: the outbox relay and consumers."""
from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Protocol, TypeVar

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from shared.audit import AuditChain, audit_tables_of
from shared.bus import Bus, Message, Publisher, Subscription
from shared.config import ConfigError, Settings
from shared.consumer import BatchPreparation, EventConsumer, EventHandler
from shared.db import is_postgres, upgrade_to_head
from shared.doorbell import UdpDoorbell
from shared.events import CloudEvent
from shared.logging import configure_logging
from shared.metrics import worker_metrics
from shared.relay import OutboxRelay
from shared.topics import PUBLISHED_BY
from shared.uow import ConsumingUnitOfWork
from shared.worker_health import WorkerHealth, serve_health

log = structlog.get_logger(__name__)
GRACE_S = 5.0
SettingsT = TypeVar("SettingsT", bound=Settings)


class ServiceComponents(Protocol):
    """What a service's bootstrap() gives every process: its settings, database and bus."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def bus(self) -> Bus: ...


def settings_or_exit(settings_class: type[SettingsT]) -> SettingsT:
    """The process's settings, or an exit with one line naming the variable that is wrong."""
    try:
        return settings_class.from_env()
    except ConfigError as exc:
        sys.exit(f"dealgate {settings_class.SERVICE}: {exc}")


def worker_health(worker: str, port: int, *, stale_after_s: float = 120.0) -> WorkerHealth:
    """The probes' view of a worker's main loop, served on `port` (DEALGATE_WORKER_HEALTH_PORT) unless it is 0."""
    health = WorkerHealth(worker, stale_after_s=stale_after_s)
    if port:
        serve_health(health, port)
    return health


def start_worker(settings_class: type[SettingsT], role: str) -> SettingsT:
    """Settings read and checked, logging configured: the first lines of every worker's main()."""
    settings = settings_or_exit(settings_class)
    configure_logging(f"{settings.service}-{role}", settings.log_level, settings.log_json)
    return settings


def relay_main(settings_class: type[SettingsT], *, build: Callable[[SettingsT], ServiceComponents],
               outbox_table: sa.Table) -> None:
    """The whole relay process of a service: its outbox to Kafka until SIGTERM."""
    settings = start_worker(settings_class, "relay")
    components = build(settings)
    stop = stop_on_signals()
    audit = audit_tables_of(outbox_table)
    if audit is not None:  # the relay process also seals the service's audit entries into their hash chain
        threading.Thread(target=AuditChain(components.engine, *audit).keep_sealing, args=(stop,),
                         name="audit-sealer", daemon=True).start()
    try:
        run_relay(service=settings.service, engine=components.engine, outbox_table=outbox_table, bus=components.bus,
                  stop=stop,
                  doorbell_address=settings.relay_doorbell, poll_interval_s=settings.relay_poll_interval_s,
                  faults=settings.faults, max_attempts=settings.relay_max_attempts,
                  retention_s=settings.retention_days * 86400, prune_every_s=settings.retention_interval_s,
                  health=worker_health(f"{settings.service}-relay", settings.worker_health_port),
                  gather_s=settings.batch_gather_s)
    except ConfigError as exc:
        sys.exit(f"dealgate {settings.service} relay: {exc}")


def migrate_main(settings_class: type[Settings], migrations: Path) -> None:
    """The whole migrate process of a service: its database brought to the newest schema."""
    upgrade_to_head(settings_or_exit(settings_class).database_url, migrations)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.stopping", signal=signal.Signals(signum).name)
        stop.set()
        # kafka-python can sit in a blocking reconnect for a while; stopping abruptly is safe because offsets
        # are committed only after each transaction, so leave gracefully if we can and promptly regardless.
        watchdog = threading.Timer(GRACE_S, lambda: os._exit(0))
        watchdog.daemon = True
        watchdog.start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def crash_after(count: int | None, what: str) -> Callable[[], None] | None:
    """A fault-injection hook: SIGKILL-like exit (no cleanup, no flush) on the count-th call."""
    if not count:
        return None
    calls = [0]

    def maybe_crash() -> None:
        calls[0] += 1
        if calls[0] >= count:
            log.warning("fault.injected_crash", after=what, calls=calls[0])
            os._exit(137)
    return maybe_crash


def run_relay(*, service: str, engine: Engine, outbox_table: sa.Table, bus: Bus,
              doorbell_address: tuple[str, int] | None, poll_interval_s: float,
              stop: threading.Event | None = None, faults: Mapping[str, int] | None = None,
              max_attempts: int = 5, retention_s: float = 7 * 86400.0, prune_every_s: float = 600.0,
              health: WorkerHealth | None = None, gather_s: float = 0.0) -> None:
    """Publish the outbox until stopped. First, once the broker answers, check that it takes messages as large as
    the publisher may send on the service's topics: ConfigError (one line) if not."""
    stop = stop or stop_on_signals()
    problems: list[str] = []
    topics = PUBLISHED_BY.get(service, ())
    if topics and not _retry_until_done(lambda: problems.extend(message_limit_problems(bus, topics)),
                                        "relay.message_limit_unknown", stop):
        return
    if problems:
        raise ConfigError("; ".join(problems))
    published = worker_metrics()["published"].labels(service)
    relay = OutboxRelay(engine, outbox_table, bus.publisher, poll_interval_s=poll_interval_s,
                        batch_size=(faults or {}).get("relay_batch_size", 500), on_published=published.inc,
                        after_publish_before_mark=crash_after((faults or {}).get("relay_exit_after_publish"),
                                                              "publish"),
                        max_attempts=max_attempts, lease=service, retention_s=retention_s,
                        prune_every_s=prune_every_s, gather_s=gather_s)
    listener = UdpDoorbell(doorbell_address).listener() if doorbell_address else _Sleeper(stop)
    log.info("relay.started", doorbell=doorbell_address, max_message_bytes=bus.max_message_bytes,
             max_attempts=max_attempts, replicas="take turns per batch" if is_postgres(engine) else "one (SQLite)")
    try:
        relay.run(listener, stop, health)
    finally:
        relay.close()
        listener.close()
        log.info("relay.stopped")


def message_limit_problems(bus: Bus, topics: Sequence[str]) -> list[str]:
    """What is wrong, if anything, with the broker's message size limit on `topics` for this bus's publishers."""
    return [f"the broker takes messages of at most {limit} bytes on {topic} (its max.message.bytes, else the "
            f"broker's message.max.bytes), less than the {bus.max_message_bytes} this relay may send: raise it, or "
            f"set DEALGATE_KAFKA_MAX_MESSAGE_BYTES to at most {limit}"
            for topic, limit in sorted(bus.message_limits(topics).items()) if limit < bus.max_message_bytes]


def run_consumer(*, service: str, bus: Bus, topics: list[str], group: str,
                 uow_factory: Callable[[], ConsumingUnitOfWork], handlers: Mapping[str, EventHandler],
                 stop: threading.Event | None = None,
                 dlq_publisher_factory: Callable[[], Publisher] | None = None,
                 faults: Mapping[str, int] | None = None, prepare: Callable[[], object] | None = None,
                 background: tuple[Callable[[threading.Event], None], ...] = (),
                 before_batch: BatchPreparation | None = None, health: WorkerHealth | None = None,
                 gather_s: float = 0.0) -> None:
    """Consume until stopped. `prepare` (e.g. rebuilding an in-memory index) runs first, retried until the
    database answers, so a worker started during a database restart waits instead of crashing.
    Each of `background` (e.g. PlannerStatistics.keep_fresh) runs in a daemon thread until the stop."""
    stop = stop or stop_on_signals()
    if prepare is not None and not _retry_until_done(prepare, "consumer.prepare_failed", stop):
        return
    metrics = worker_metrics()
    subscription = _subscribe_when_broker_answers(bus, topics, group, stop)
    if subscription is None:
        return

    def applied(message: Message, event: CloudEvent, first_time: bool) -> None:
        metrics["consumed"].labels(service, message.topic, event.type, "applied" if first_time else "duplicate").inc()

    def dead_lettered(message: Message, error: str) -> None:
        metrics["dead_lettered"].labels(service, message.topic).inc()

    consumer = EventConsumer(subscription=subscription, uow_factory=uow_factory, handlers=handlers,
                             dlq_publisher_factory=dlq_publisher_factory or bus.publisher, service=service,
                             on_applied=applied, on_dead_letter=dead_lettered,
                             after_commit_before_offset=crash_after(
                                 (faults or {}).get("consumer_exit_after_commit"), "database commit"),
                             before_batch=before_batch, gather_s=gather_s)
    for task in background:
        threading.Thread(target=task, args=(stop,), name=getattr(task, "__name__", "background"),
                         daemon=True).start()
    log.info("consumer.started", topics=topics, group=group)
    try:
        consumer.run(stop, health)
    finally:
        consumer.close()
        log.info("consumer.stopped")


def _retry_until_done(action: Callable[[], object], event: str, stop: threading.Event) -> bool:
    backoff = 0.5
    while not stop.is_set():
        try:
            action()
            return True
        except Exception as exc:  # noqa: BLE001 - the database may still be starting or restarting
            log.warning(event, error=str(exc)[:300], retry_in_s=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 2.0)
    return False


def _subscribe_when_broker_answers(bus: Bus, topics: list[str], group: str,
                                   stop: threading.Event) -> Subscription | None:
    backoff = 0.5
    while not stop.is_set():
        try:
            bus.ensure_topics()
            return bus.subscribe(topics, group)
        except Exception as exc:  # noqa: BLE001 - the broker may still be starting
            log.warning("consumer.subscribe_failed", error=str(exc), retry_in_s=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 2.0)
    return None


class _Sleeper:
    def __init__(self, stop: threading.Event):
        self._stop = stop

    def wait(self, timeout_s: float) -> None:
        self._stop.wait(timeout_s)

    def close(self) -> None:
        pass
