"""Idempotent consumption: each event's effect and its inbox record commit together; the offset is committed after."""
from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping

import sqlalchemy as sa
import structlog

from shared.bus import Message, OutgoingMessage, Publisher, Subscription
from shared.events import CORRELATION_KAFKA_HEADER, CloudEvent, InvalidEvent
from shared.logging import bind_correlation_id, unbind_request_context
from shared.topics import dlq_name
from shared.uow import ConsumingUnitOfWork
from shared.worker_health import WorkerHealth

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 3
# Failures of the infrastructure rather than of the message (connection lost, deadlock, "database is locked").
TRANSIENT_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError)


EventHandler = Callable[..., None]  # handler(event, *, uow)
# before_batch(events, uow): runs in a batch's transaction before its handlers
BatchPreparation = Callable[[list[CloudEvent], ConsumingUnitOfWork], None]


class EventConsumer:
    """Polls a subscription and applies each event exactly once in effect.

    For every message: parse, then in ONE transaction record the event id and apply the handler, then commit
    the offset. A failing message is retried; after MAX_ATTEMPTS it goes to <topic>.dlq with the error in
    its headers, and the consumer moves on.
    """

    def __init__(self, *, subscription: Subscription, uow_factory: Callable[[], ConsumingUnitOfWork],
                 handlers: Mapping[str, EventHandler],
                 dlq_publisher_factory: Callable[[], Publisher], service: str,
                 on_applied: Callable[[Message, CloudEvent, bool], None] | None = None,
                 on_dead_letter: Callable[[Message, str], None] | None = None,
                 retry_backoff_s: float = 0.05, after_commit_before_offset: Callable[[], None] | None = None,
                 batch_size: int = 50, before_batch: BatchPreparation | None = None, gather_s: float = 0.0):
        self._subscription = subscription
        self._uow_factory = uow_factory
        self._handlers = handlers
        self._dlq_publisher_factory = dlq_publisher_factory
        self._dlq_publisher: Publisher | None = None
        self._service = service
        self._on_applied = on_applied or (lambda message, event, applied: None)
        self._on_dead_letter = on_dead_letter or (lambda message, error: None)
        self._retry_backoff_s = retry_backoff_s
        self._after_commit_before_offset = after_commit_before_offset or (lambda: None)
        self._batch_size = batch_size
        self._before_batch = before_batch
        self._gather_s = gather_s

    def process(self, message: Message) -> None:
        last_error = ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self._apply(message)
                return
            except TRANSIENT_ERRORS:
                # The database is restarting or a lock timed out: the message is fine, so it must not be
                # dead-lettered. Let the run loop back off and read it again.
                raise
            except Exception as exc:  # noqa: BLE001 - any other failure counts as an attempt
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning("consumer.attempt_failed", topic=message.topic, partition=message.partition,
                            offset=message.offset, attempt=attempt, error=last_error,
                            traceback=traceback.format_exc(limit=5))
                time.sleep(self._retry_backoff_s * attempt)
        self._dead_letter(message, last_error)

    def _apply(self, message: Message) -> None:
        event = CloudEvent.from_json(message.value)
        bind_correlation_id(event.correlationid or message.header(CORRELATION_KAFKA_HEADER))
        try:
            with self._uow_factory() as uow:
                first_time = uow.inbox.mark_processed(event, message.topic)
                if first_time:
                    handler = self._handlers.get(event.type)
                    if handler is not None:
                        handler(event, uow=uow)
                uow.commit()
            self._on_applied(message, event, first_time)
            if first_time:
                log.info("consumer.applied", topic=message.topic, type=event.type, subject=event.subject,
                         event_id=event.id)
        finally:
            unbind_request_context()

    def _apply_together(self, messages: list[Message]) -> bool:
        """Apply a polled batch in ONE transaction (one commit instead of one per event).

        All or nothing: if anything in it fails, nothing of it is kept and False sends the caller through the
        one-by-one path, where retries and the DLQ work per message exactly as before.
        """
        try:
            events = [(message, CloudEvent.from_json(message.value)) for message in messages]
        except InvalidEvent:
            return False
        outcomes = []
        try:
            with self._uow_factory() as uow:
                # The whole batch's inbox records in one statement where the inbox can (SQL); each is still in
                # the transaction of the effects, so a failure anywhere below records none of them.
                mark_many = getattr(uow.inbox, "mark_many", None)
                first_times = (mark_many([(event, message.topic) for message, event in events]) if mark_many
                               else [None] * len(events))
                if self._before_batch is not None:
                    # e.g. every lock the batch's handlers will take, at once and in one order: handlers taking
                    # them event by event would let two consumers' batches each hold what the other waits for.
                    self._before_batch([event for (_, event), marked in zip(events, first_times, strict=True)
                                        if marked is not False], uow)
                for (message, event), marked in zip(events, first_times, strict=True):
                    bind_correlation_id(event.correlationid or message.header(CORRELATION_KAFKA_HEADER))
                    first_time = uow.inbox.mark_processed(event, message.topic) if marked is None else marked
                    handler = self._handlers.get(event.type) if first_time else None
                    if handler is not None:
                        handler(event, uow=uow)
                    outcomes.append((message, event, first_time))
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - the one-by-one path sorts out which message it was
            log.info("consumer.batch_fell_back", size=len(messages), error=f"{type(exc).__name__}: {exc}"[:300])
            return False
        finally:
            unbind_request_context()
        for message, event, first_time in outcomes:
            self._on_applied(message, event, first_time)
        log.info("consumer.applied_batch", size=len(messages), topics=sorted({m.topic for m in messages}))
        return True

    def _dead_letter(self, message: Message, error: str) -> None:
        if self._dlq_publisher is None:
            self._dlq_publisher = self._dlq_publisher_factory()
        headers = list(message.headers) + [
            ("dlq-error", error[:2000].encode()),
            ("dlq-attempts", str(MAX_ATTEMPTS).encode()),
            ("dlq-consumer", self._service.encode()),
            ("dlq-original-topic", message.topic.encode()),
            ("dlq-original-partition", str(message.partition).encode()),
            ("dlq-original-offset", str(message.offset).encode()),
        ]
        # If even the DLQ cannot take it, this raises and the offset stays put: nothing is silently dropped.
        self._dlq_publisher.publish([OutgoingMessage(dlq_name(message.topic), message.key or "", message.value,
                                                     headers)])
        self._on_dead_letter(message, error)
        log.error("consumer.dead_lettered", topic=message.topic, partition=message.partition,
                  offset=message.offset, error=error)

    def run_once(self, timeout_s: float = 0.5) -> int:
        """Process one polled batch, then commit its offsets.

        Offsets are committed once per batch rather than per message: every message's transaction has
        committed by then, and a crash before the offset commit only means redelivery, which the inbox absorbs.
        """
        messages = self._subscription.poll(timeout_s)
        polled = len(messages)
        done: dict[tuple[str, int], Message] = {}
        try:
            if len(messages) > 1 and self._batch_size > 1:
                remaining: list[Message] = []
                for start in range(0, len(messages), self._batch_size):
                    chunk = messages[start:start + self._batch_size]
                    if remaining or not self._apply_together(chunk):
                        remaining.extend(chunk)
                        continue
                    for message in chunk:
                        done[(message.topic, message.partition)] = message
                        self._after_commit_before_offset()
                messages = remaining
            for index, message in enumerate(messages):
                try:
                    self.process(message)
                except Exception:
                    # Could not even dead-letter (broker down): rewind so these come back on the next poll.
                    seek_back = getattr(self._subscription, "seek_back", None)
                    if seek_back:
                        for pending in _first_per_partition(messages[index:]):
                            seek_back(pending)
                    raise
                done[(message.topic, message.partition)] = message
                self._after_commit_before_offset()
        finally:
            if done:
                self._subscription.commit_many(list(done.values()))
        return polled

    def run(self, stop: threading.Event, health: WorkerHealth | None = None) -> None:
        backoff = 0.2
        busy_since = -float("inf")  # when the last pass that found messages started
        while not stop.is_set():
            # While messages keep coming, a pass starts at most every gather_s, so those that arrived meanwhile
            # share its transaction and offset commit (see batch_gather_s); an idle consumer polls at once.
            if (gather := busy_since + self._gather_s - time.monotonic()) > 0:
                stop.wait(gather)
            started = time.monotonic()
            try:
                if self.run_once():
                    busy_since = started
                backoff = 0.2
                if health is not None:
                    health.passed()
            except Exception as exc:  # noqa: BLE001 - keep consuming through broker and database outages
                log.warning("consumer.poll_failed", error=str(exc), retry_in_s=backoff)
                if health is not None:
                    health.failed(f"{type(exc).__name__}: {exc}")
                stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)

    def close(self) -> None:
        self._subscription.close()
        if self._dlq_publisher is not None:
            self._dlq_publisher.close()


def _first_per_partition(messages: list[Message]) -> list[Message]:
    seen: dict[tuple[str, int], Message] = {}
    for message in messages:
        seen.setdefault((message.topic, message.partition), message)
    return list(seen.values())
