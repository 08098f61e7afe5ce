"""The message bus: a kafka-python implementation and an in-memory twin with the same behaviour for unit tests."""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import heapq
import os
import socket
import threading
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import structlog

from shared.topics import TOPICS, TopicSpec

log = structlog.get_logger(__name__)

Headers = list[tuple[str, bytes]]


@dataclasses.dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: Headers = dataclasses.field(default_factory=list)


def in_arrival_order(partitions: Iterable[Sequence[Message]]) -> list[Message]:
    """One poll's messages, oldest first across partitions, each partition still in offset order.

    A poll hands back its records partition by partition, so a registration submitted after another could
    be judged first just because its key hashed to an earlier partition; judging in submission order is
    what "first come" means to the partners.
    """
    return list(heapq.merge(*partitions, key=lambda message: message.timestamp_ms))


@dataclasses.dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: Headers
    timestamp_ms: int = 0  # when it was produced (Kafka's create time); orders messages across partitions

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace") if value is not None else None
        return None


class PublishFailed(RuntimeError):
    pass


class MessageRejected(PublishFailed):
    """The broker (or the client, before sending) refused a message itself: larger than the topic takes, a topic
    that does not exist or may not be written. Sending it again cannot succeed, unlike during an outage.

    `acknowledged`: the refused message's place in the list, every message before it acknowledged (None when it is
    not known which one it was); the messages after it may or may not have been sent.
    """

    def __init__(self, message: str, *, acknowledged: int | None = None):
        super().__init__(message)
        self.acknowledged = acknowledged


# What a producer sends at most per message; deploy/kafka.py gives its broker the same message.max.bytes. The relay
# checks at start-up that the broker takes this much on the topics it publishes to (DEALGATE_RELAY_MAX_MESSAGE_BYTES).
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class Publisher(Protocol):
    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send all messages and return only once the broker acknowledged every one; raise PublishFailed otherwise."""

    def close(self) -> None: ...


class Subscription(Protocol):
    def poll(self, timeout_s: float) -> list[Message]: ...
    def commit_many(self, messages: Sequence[Message]) -> None:
        """For each message: mark everything up to and including it in its partition as done for the group."""
    def close(self) -> None: ...


class Bus(Protocol):
    @property
    def max_message_bytes(self) -> int:
        """The largest message its publishers send; a larger one is refused (MessageRejected) before sending."""

    def publisher(self) -> Publisher: ...
    def subscribe(self, topics: Sequence[str], group: str) -> Subscription: ...
    def ensure_topics(self, specs: Iterable[TopicSpec] = TOPICS) -> None: ...
    def message_limits(self, topics: Sequence[str]) -> dict[str, int]:
        """The largest message the broker takes on each topic (its max.message.bytes, else message.max.bytes)."""


# --- Kafka -------------------------------------------------------------------------------------------

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "PLAIN")


@dataclasses.dataclass(frozen=True)
class KafkaSecurity:
    """How a client proves who it is to the brokers and checks theirs: the standard Kafka client settings
    (DEALGATE_KAFKA_SECURITY_PROTOCOL and the rest, read and checked in shared/config.py)."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    cafile: str | None = None    # the CA that signed the brokers' certificates (else the system's)
    certfile: str | None = None  # a client certificate, for brokers that ask for one (mutual TLS)
    keyfile: str | None = None

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any kafka-python client (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_sasl:
            options.update(sasl_mechanism=self.sasl_mechanism or "SCRAM-SHA-512",
                           sasl_plain_username=self.username, sasl_plain_password=self.password)
        if self.uses_tls:
            options.update(ssl_check_hostname=True, ssl_cafile=self.cafile, ssl_certfile=self.certfile,
                           ssl_keyfile=self.keyfile)
        return options


PLAINTEXT = KafkaSecurity()


class KafkaBus:
    """`replication_factor` and `min_insync_replicas` are what ensure_topics gives the topics it creates: with three
    brokers, 3 and 2 keep every acknowledged message (acks=all) on two brokers and the topics writable while one
    broker is down."""

    def __init__(self, bootstrap_servers: str, client_id: str = "dealgate", *,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, security: KafkaSecurity = PLAINTEXT,
                 replication_factor: int = 1, min_insync_replicas: int = 1):
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self._max_message_bytes = max_message_bytes
        self.security = security
        self.replication_factor = replication_factor
        self.min_insync_replicas = min_insync_replicas

    @classmethod
    def from_settings(cls, settings: Any, client_id: str) -> KafkaBus:
        """The bus a service's settings (shared.config.Settings) describe."""
        return cls(settings.kafka_bootstrap_servers, client_id=client_id,
                   max_message_bytes=settings.kafka_max_message_bytes, security=settings.kafka_security,
                   replication_factor=settings.kafka_replication_factor,
                   min_insync_replicas=settings.kafka_min_insync_replicas)

    @property
    def max_message_bytes(self) -> int:
        return self._max_message_bytes

    def admin(self, **options: Any) -> Any:
        """A kafka-python admin client for these brokers (the caller closes it)."""
        from kafka import KafkaAdminClient

        return KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=f"{self.client_id}-admin",
                                **self.security.client_options(), **options)

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(self.bootstrap_servers, self.client_id, max_request_size=self._max_message_bytes,
                              security=self.security)

    def message_limits(self, topics: Sequence[str]) -> dict[str, int]:
        """Each topic's max.message.bytes as the broker applies it (its own setting, else the broker's default);
        for a topic that does not exist yet, the smallest message.max.bytes of the brokers (what it would get)."""
        from kafka.admin import ConfigResource, ConfigResourceType
        from kafka.errors import AuthorizationError

        if not _tcp_reachable(self.bootstrap_servers):
            raise ConnectionError(f"no broker answers at {self.bootstrap_servers}")
        admin = self.admin(request_timeout_ms=10_000, bootstrap_timeout_ms=5_000)
        try:
            described = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, ["max.message.bytes"]) for topic in topics],
                config_filter="all")
            limits = {topic: int(entry["max.message.bytes"]["value"])
                      for topic, entry in described.get("topic", {}).items() if "max.message.bytes" in entry}
            missing = [topic for topic in topics if topic not in limits]
            if missing:
                brokers = [str(b["broker_id"]) for b in admin.describe_cluster()["brokers"]]
                described = admin.describe_configs(
                    [ConfigResource(ConfigResourceType.BROKER, b, ["message.max.bytes"]) for b in brokers],
                    config_filter="all")
                broker_limit = min(int(entry["message.max.bytes"]["value"])
                                   for entry in described.get("broker", {}).values() if "message.max.bytes" in entry)
                limits.update({topic: broker_limit for topic in missing})
            return limits
        except AuthorizationError as exc:  # may not describe configs: the check cannot be made, which is no fault
            log.warning("kafka.message_limits_unknown", error=f"{type(exc).__name__}: {exc}")
            return {}
        finally:
            admin.close()

    def subscribe(self, topics: Sequence[str], group: str) -> KafkaSubscription:
        return KafkaSubscription(self.bootstrap_servers, topics, group, self.client_id, security=self.security)

    def ensure_topics(self, specs: Iterable[TopicSpec] = TOPICS) -> None:
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError

        admin = self.admin()
        try:
            existing = set(admin.list_topics())
            missing = [
                NewTopic(name=s.name, num_partitions=s.partitions, replication_factor=self.replication_factor,
                         topic_configs={"min.insync.replicas": str(self.min_insync_replicas), **s.config})
                for s in specs if s.name not in existing
            ]
            if missing:
                # another process may have created them first: that is the state we wanted
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(missing)
        finally:
            admin.close()


# Errors that belong to the message rather than to the broker's health (kafka.errors class names).
_REJECTIONS = frozenset({"MessageSizeTooLargeError", "RecordListTooLargeError", "CorruptRecordError",
                         "InvalidRecordError", "InvalidTopicError", "TopicAuthorizationFailedError",
                         "PolicyViolationError", "UnsupportedForMessageFormatError"})


class KafkaPublisher:
    def __init__(self, bootstrap_servers: str, client_id: str, *, max_request_size: int = DEFAULT_MAX_MESSAGE_BYTES,
                 security: KafkaSecurity = PLAINTEXT):
        from kafka import KafkaProducer

        # acks=all + idempotence: an acknowledged send is on every in-sync replica, and producer retries
        # never write a duplicate. Every send is checked (future.get) before the outbox row is marked.
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=1,
            max_block_ms=10_000,
            request_timeout_ms=10_000,
            delivery_timeout_ms=30_000,
            allow_auto_create_topics=False,
            reconnect_backoff_max_ms=2_000,  # come back quickly once a restarted broker answers
            max_request_size=max_request_size,  # the relay checks at start-up that the broker takes as much
            **security.client_options(),
        )
        self._bootstrap_servers = bootstrap_servers
        self._security = security

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """A refused message raises MessageRejected; after that this producer may keep failing (an idempotent
        producer's sequence broke), so the caller replaces it, as after any failure."""
        from kafka.errors import KafkaError, KafkaTimeoutError

        futures: list[Any] = []
        sent = False
        try:
            for m in messages:
                futures.append(self._producer.send(m.topic, key=m.key.encode(), value=m.value, headers=m.headers))
            sent = True
            self._producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)
        except KafkaError as exc:
            error = f"{type(exc).__name__}: {exc}"
            if type(exc).__name__ in _REJECTIONS:
                index, refusal = self._refused_at(futures, sent)
                raise MessageRejected(refusal or error, acknowledged=index) from exc
            if isinstance(exc, KafkaTimeoutError) and len({m.topic for m in messages}) == 1:
                missing = self._missing_topic(messages[0].topic)
                if missing:
                    raise MessageRejected(missing, acknowledged=0 if not futures else None) from exc
            raise PublishFailed(error) from exc

    def _refused_at(self, futures: list[Any], sent: bool) -> tuple[int | None, str | None]:
        """Where the refused message is in the list, if every message before it was acknowledged, and the error
        of a message the broker refused (None: the one send() refused)."""
        from kafka.errors import KafkaError

        if not sent:  # send() refused the next message itself (too large): the ones queued before it go out now
            with contextlib.suppress(KafkaError):
                self._producer.flush(timeout=30)
        for index, future in enumerate(futures):  # else (or also) the broker refused one: the first not acknowledged
            if not future.succeeded():
                error = future.exception
                if future.failed() and type(error).__name__ in _REJECTIONS:
                    return index, f"{type(error).__name__}: {error}"
                return None, None
        return (None if sent else len(futures)), None

    def _missing_topic(self, topic: str) -> str | None:
        """After a timeout: whether the broker answers and has no such topic (the producer waits for its metadata
        until max_block_ms when the broker does not create topics on demand), or it is the broker that is away."""
        from kafka import KafkaAdminClient

        if not _tcp_reachable(self._bootstrap_servers):
            return None  # the broker is away (an admin client would take 30 s to say so)
        try:
            admin = KafkaAdminClient(bootstrap_servers=self._bootstrap_servers, request_timeout_ms=5_000,
                                     bootstrap_timeout_ms=5_000, client_id="dealgate-relay-check",
                                     **self._security.client_options())
            try:
                exists = topic in admin.list_topics()
            finally:
                admin.close()
        except Exception:  # noqa: BLE001 - the broker is not answering: an outage, not this message's fault
            return None
        return None if exists else f"UnknownTopicOrPartitionError: the topic {topic} does not exist"

    def close(self) -> None:
        self._producer.close(timeout=5)


def _assignment_logger(group: str) -> Any:
    """A kafka-python ConsumerRebalanceListener (it must subclass it) that logs each consumer's partitions."""
    from kafka import ConsumerRebalanceListener

    class LogAssignments(ConsumerRebalanceListener):  # type: ignore[misc]  # an untyped library class
        def on_partitions_revoked(self, revoked: Any) -> None:
            log.info("consumer.partitions_revoked", group=group, partitions=_names(revoked))

        def on_partitions_assigned(self, assigned: Any) -> None:
            log.info("consumer.partitions_assigned", group=group, partitions=_names(assigned), pid=os.getpid())

    return LogAssignments()


def _names(partitions: Any) -> list[str]:
    return sorted(f"{p.topic}:{p.partition}" for p in partitions)


def _tcp_reachable(bootstrap_servers: str) -> bool:
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        with contextlib.suppress(OSError, ValueError), socket.create_connection((host or "127.0.0.1", int(port)),
                                                                                timeout=1.0):
            return True
    return False


FETCH_MAX_WAIT_MS = 500


class KafkaSubscription:
    def __init__(self, bootstrap_servers: str, topics: Sequence[str], group: str, client_id: str, *,
                 security: KafkaSecurity = PLAINTEXT):
        from kafka import KafkaConsumer

        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            client_id=client_id,
            enable_auto_commit=False,  # offsets are committed only after the database transaction
            auto_offset_reset="earliest",
            max_poll_records=200,
            # A killed consumer's partitions move to the others once its session lapses: keep that short
            # (6 s is the broker's minimum by default).
            session_timeout_ms=6_000,
            heartbeat_interval_ms=1_000,
            max_poll_interval_ms=300_000,
            # The broker answers a fetch as soon as one record is there (fetch.min.bytes 1), so this bounds only
            # the idle polling: at 50 ms every consumer and the broker spent a tenth of a core asking an empty
            # topic 20 times a second. 500 ms is Kafka's own default.
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            reconnect_backoff_max_ms=2_000,
            **security.client_options(),
        )
        # Consumers of one service share its group, and the broker spreads the partitions across them; each says
        # what it got after every rebalance (the e2e race test reads these lines).
        self._consumer.subscribe(topics=list(topics), listener=_assignment_logger(group))

    def poll(self, timeout_s: float) -> list[Message]:
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        return in_arrival_order([
            [Message(topic=r.topic, partition=r.partition, offset=r.offset,
                     key=r.key.decode() if r.key is not None else None, value=r.value or b"",
                     headers=list(r.headers or []), timestamp_ms=r.timestamp or 0) for r in records]
            for records in batches.values()])

    def commit_many(self, messages: Sequence[Message]) -> None:
        """Synchronous on purpose. With commit_async (kafka-python 3.0.12), a commit that failed while the group
        coordinator's broker was killed left a consumer looking for the coordinator for minutes, its network thread
        spinning, and its partitions unread (the three-broker chaos test of stop 12)."""
        from kafka import TopicPartition
        from kafka.structs import OffsetAndMetadata

        self._consumer.commit({TopicPartition(m.topic, m.partition): OffsetAndMetadata(m.offset + 1, "", -1)
                               for m in messages})

    def seek_back(self, message: Message) -> None:
        """Make the next poll return `message` again (used when a batch is abandoned half-way)."""
        from kafka import TopicPartition

        self._consumer.seek(TopicPartition(message.topic, message.partition), message.offset)

    def close(self) -> None:
        self._consumer.close(autocommit=False)


# --- In memory ---------------------------------------------------------------------------------------


class InMemoryBus:
    """A single-process twin of Kafka: partitioned append-only logs, keyed partitioning, group offsets."""

    def __init__(self, default_partitions: int = 3, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        self._lock = threading.RLock()
        self._default_partitions = default_partitions
        self.logs: dict[str, list[list[Message]]] = {}
        self.group_offsets: dict[tuple[str, str, int], int] = collections.defaultdict(int)
        self.fail_publishes = 0  # tests set this to simulate a broker outage for the next N publish calls
        self._appended = 0
        self._max_message_bytes = max_message_bytes
        self.broker_message_limit = max_message_bytes  # tests lower it to see the relay's start-up check refuse
        self.rejected_topics: set[str] = set()  # tests add a topic to have every message to it refused

    @property
    def max_message_bytes(self) -> int:
        return self._max_message_bytes

    def message_limits(self, topics: Sequence[str]) -> dict[str, int]:
        return {topic: self.broker_message_limit for topic in topics}

    def _log(self, topic: str) -> list[list[Message]]:
        with self._lock:
            if topic not in self.logs:
                spec = next((s for s in TOPICS if s.name == topic), None)
                self.logs[topic] = [[] for _ in range(spec.partitions if spec else self._default_partitions)]
            return self.logs[topic]

    def ensure_topics(self, specs: Iterable[TopicSpec] = TOPICS) -> None:
        for spec in specs:
            self._log(spec.name)

    def publisher(self) -> InMemoryPublisher:
        return InMemoryPublisher(self)

    def subscribe(self, topics: Sequence[str], group: str) -> InMemorySubscription:
        return InMemorySubscription(self, list(topics), group)

    def append(self, outgoing: OutgoingMessage) -> Message:
        with self._lock:
            partitions = self._log(outgoing.topic)
            index = zlib.crc32(outgoing.key.encode()) % len(partitions)
            self._appended += 1  # stands in for Kafka's timestamp: the order messages arrived in
            message = Message(outgoing.topic, index, len(partitions[index]), outgoing.key, outgoing.value,
                              list(outgoing.headers), timestamp_ms=self._appended)
            partitions[index].append(message)
            return message

    def messages(self, topic: str) -> list[Message]:
        with self._lock:
            return [m for partition in self._log(topic) for m in partition]


class InMemoryPublisher:
    def __init__(self, bus: InMemoryBus):
        self._bus = bus

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if self._bus.fail_publishes > 0:
            self._bus.fail_publishes -= 1
            raise PublishFailed("broker unavailable (simulated)")
        for index, message in enumerate(messages):  # like Kafka's producer: the ones before a refused message go
            if len(message.value) > self._bus.max_message_bytes:
                raise MessageRejected(f"MessageSizeTooLargeError: the message is {len(message.value)} bytes",
                                      acknowledged=index)
            if message.topic in self._bus.rejected_topics:
                raise MessageRejected(f"TopicAuthorizationFailedError: {message.topic} (simulated)",
                                      acknowledged=index)
            self._bus.append(message)

    def close(self) -> None:
        pass


class InMemorySubscription:
    def __init__(self, bus: InMemoryBus, topics: list[str], group: str):
        self._bus, self._topics, self._group = bus, topics, group
        self._positions: dict[tuple[str, int], int] = {}

    def poll(self, timeout_s: float = 0) -> list[Message]:
        batches: list[list[Message]] = []
        with self._bus._lock:
            for topic in self._topics:
                for index, partition in enumerate(self._bus._log(topic)):
                    start = self._positions.get((topic, index), self._bus.group_offsets[(self._group, topic, index)])
                    batch = partition[start:start + 200]
                    batches.append(batch)
                    self._positions[(topic, index)] = start + len(batch)
        return in_arrival_order(batches)

    def commit_many(self, messages: Sequence[Message]) -> None:
        with self._bus._lock:
            for message in messages:
                self._bus.group_offsets[(self._group, message.topic, message.partition)] = message.offset + 1

    def seek_back(self, message: Message) -> None:
        self._positions[(message.topic, message.partition)] = message.offset

    def close(self) -> None:
        pass
