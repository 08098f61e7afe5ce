"""A local Apache Kafka in KRaft mode, one node or a quorum of three, open or with TLS and SASL: jars from Maven
Central into a cache, then format and start.

python -m deploy.kafka fetch|start|stop|status [--brokers 3] [--security sasl_ssl]
(the stack and the test suite use the same classes)
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KAFKA_VERSION = "4.3.1"


def cache_dir() -> Path:
    base = os.environ.get("DEALGATE_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                           os.path.expanduser("~/.cache"), "dealgate")
    return Path(base) / f"kafka-{KAFKA_VERSION}"


def fetch_jars(quiet: bool = False) -> Path:
    """Resolve kafka_2.13 and its runtime dependencies with Maven, once; later calls reuse the cache.

    Maven's download lines are condensed into a progress line every two seconds (files and megabytes so far,
    the latest file), so a slow download can be told from a hang; all Maven said is shown if it fails.
    """
    libs = cache_dir() / "libs"
    marker = cache_dir() / ".complete"
    if marker.exists():
        return libs
    if not shutil.which("mvn"):
        raise RuntimeError("Maven (mvn) is needed once to fetch the Kafka jars; install it (apt-get install maven).")
    staging = cache_dir() / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    say(f"fetching Apache Kafka {KAFKA_VERSION} and its runtime jars (~{EXPECTED_JARS} jars, ~45 MB, plus Maven's "
        f"own plugins on a first run) from Maven Central into {libs} ...")
    started = time.monotonic()
    command = ["mvn", "-B", "-Dstyle.color=never", "-f", str(HERE / "kafka" / "pom.xml"),
               "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
               f"-Dkafka.version={KAFKA_VERSION}"]
    transcript: list[str] = []
    files = 0
    total_bytes = 0.0
    shown_at = 0.0
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # noqa: S603 - fixed argv
                               text=True, errors="replace")
    for line in process.stdout or ():
        transcript.append(line.rstrip())
        downloaded = DOWNLOADED.match(line)
        if downloaded:
            files += 1
            total_bytes += _size_bytes(downloaded.group("size"), downloaded.group("unit"))
            name = downloaded.group("url").rsplit("/", 1)[-1]
            if time.monotonic() - shown_at >= 2.0:  # a line every 2 s at most: moving, not flooding
                shown_at = time.monotonic()
                say(f"  [{shown_at - started:4.0f}s] {files:4d} files, {total_bytes / 1e6:5.1f} MB so far: {name}")
        elif line.startswith("[ERROR]"):
            say("  " + line.rstrip())
    if process.wait() != 0:
        say("\n".join(transcript[-60:]))
        raise RuntimeError(f"Maven could not fetch the Kafka jars (exit {process.returncode}); its output is above. "
                           "Is Maven Central (https://repo.maven.apache.org) reachable from here?")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    marker.write_text(KAFKA_VERSION)
    say(f"Kafka jars ready: {len(list(libs.glob('*.jar')))} jars in {libs} "
        f"({files} files, {total_bytes / 1e6:.1f} MB downloaded in {time.monotonic() - started:.0f}s)")
    return libs


EXPECTED_JARS = 46
# "Downloaded from central: https://repo.maven.apache.org/.../kafka_2.13-4.3.1.jar (6.6 MB at 3.1 MB/s)"
DOWNLOADED = re.compile(r"^(?:\[INFO\] )?Downloaded from \S+: (?P<url>\S+) \((?P<size>[\d.,]+) (?P<unit>[kMG]?B)")


def _size_bytes(size: str, unit: str) -> float:
    return float(size.replace(",", "")) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise RuntimeError("Java 17 or later is needed to run Kafka; install it "
                           "(apt-get install openjdk-17-jre-headless); `make doctor` checks it.")
    return java


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class KafkaBroker:
    """One combined broker+controller process. `data_dir` holds its config, log and data.

    Alone it is a single-node cluster; KafkaCluster gives several of them one quorum (`node_id`, `voters`) and,
    with `tls`, TLS and SASL on every listener.
    """

    def __init__(self, data_dir: Path, *, port: int = 9092, controller_port: int | None = None,
                 heap: str = "512m", node_id: int = 1, voters: str | None = None, replication: int = 1,
                 tls: ClusterSecrets | None = None):
        self.data_dir = Path(data_dir)
        self.port = port
        self.controller_port = controller_port or port + 1
        self.heap = heap
        self.node_id = node_id
        self.voters = voters or f"{node_id}@127.0.0.1:{self.controller_port}"
        self.replication = replication  # of the broker's internal topics (consumer offsets, transactions)
        self.tls = tls
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    def _properties(self) -> str:
        internal_isr = 2 if self.replication >= 3 else 1
        return "\n".join([
            "process.roles=broker,controller",
            f"node.id={self.node_id}",
            f"controller.quorum.voters={self.voters}",
            *(self._listeners_secured(self.tls) if self.tls else self._listeners_plaintext()),
            f"log.dirs={self.data_dir / 'logs'}",
            "num.partitions=3",
            f"offsets.topic.replication.factor={self.replication}",
            "offsets.topic.num.partitions=10",
            f"transaction.state.log.replication.factor={self.replication}",
            f"transaction.state.log.min.isr={internal_isr}",
            f"default.replication.factor={self.replication}",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "log.retention.hours=168",
            "log.cleaner.backoff.ms=5000",
            # A case event carries its registrations and evidence; a large case can pass Kafka's 1 MB default.
            "message.max.bytes=8388608",
            "replica.fetch.max.bytes=8388608",
            # A killed broker's partitions get a new leader once the controller stops hearing from it; the default
            # (9 s of missed heartbeats) is most of the 10 s we allow for recovery.
            "broker.session.timeout.ms=3000",
            "broker.heartbeat.interval.ms=500",
            # Nothing unclean: a replica that missed acknowledged writes never becomes leader.
            "unclean.leader.election.enable=false",
            "",
        ])

    def _listeners_plaintext(self) -> list[str]:
        return [
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
        ]

    def _listeners_secured(self, tls: ClusterSecrets) -> list[str]:
        """TLS everywhere (clients must show a certificate of the cluster's CA too), SASL on top: SCRAM-SHA-512 or
        PLAIN for clients, SCRAM between brokers, PLAIN between controllers (KRaft takes no SCRAM there: the
        credentials live in the metadata the controllers serve). Only `admin` is a super user; every other user
        gets what its ACLs allow (KafkaCluster.grant_service_acls) and nothing without one."""
        admin = tls.password(ADMIN_USER)
        plain_users = " ".join(f'user_{user}="{tls.password(user)}"' for user in tls.users)
        return [
            f"listeners=SASL_SSL://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL",
            "inter.broker.listener.name=SASL_SSL",
            "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
            "sasl.mechanism.controller.protocol=PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            f' required username="{ADMIN_USER}" password="{admin}" user_{ADMIN_USER}="{admin}";',
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram."
            f'ScramLoginModule required username="{ADMIN_USER}" password="{admin}";',
            "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            f" required {plain_users};",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={tls.broker_keystore}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={tls.ca_file}",
            # mutual TLS on both listeners (SASL_SSL listeners ignore the unprefixed ssl.client.auth)
            "listener.name.sasl_ssl.ssl.client.auth=required",
            "listener.name.controller.ssl.client.auth=required",
            "ssl.endpoint.identification.algorithm=https",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:{ADMIN_USER}",
            "allow.everyone.if.no.acl.found=false",
        ]

    def _classpath(self) -> str:
        return str(fetch_jars() / "*")

    def format_storage(self, cluster_id: uuid.UUID | None = None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(self._properties())
        config.chmod(0o600)  # it holds the cluster's passwords when secured
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        import base64

        cluster = base64.urlsafe_b64encode((cluster_id or uuid.uuid4()).bytes).decode().rstrip("=")
        # SCRAM users go into the metadata log's first records: brokers authenticate each other with them.
        tls = self.tls
        scram = [argument for user in (tls.users if tls else ()) if tls
                 for argument in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={tls.password(user)}]")]
        # "--cluster-id=ID", not "-t ID": a URL-safe base64 id can start with "-" and would read as an option.
        subprocess.run([_java(), "-cp", self._classpath(), "kafka.tools.StorageTool", "format",  # noqa: S603 - fixed argv
                        f"--cluster-id={cluster}", "-c", str(config), *scram], check=True, stdout=subprocess.DEVNULL)

    def start(self, wait_s: float = 60.0) -> KafkaBroker:
        self.spawn()
        self.wait_ready(wait_s)
        return self

    def spawn(self, cluster_id: uuid.UUID | None = None) -> None:
        """Start the process without waiting: the nodes of a quorum must all be starting before any is ready."""
        self.format_storage(cluster_id)
        log4j = self.data_dir / "log4j2.yaml"
        log4j.write_text(LOG4J2_CONFIG.replace("@LOG@", str(self.data_dir / "server.log")))
        with open(self.data_dir / "stdout.log", "ab") as log_file:  # the broker keeps its own copy of the descriptor
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv of ours
                [_java(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1",
                 f"-Dlog4j2.configurationFile={log4j}", "-cp", self._classpath(), "kafka.Kafka",
                 str(self.data_dir / "server.properties")],
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(str(self.process.pid))

    def wait_ready(self, wait_s: float = 60.0) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Kafka exited with {self.process.returncode}; see {self.data_dir}/server.log")
            if port_open("127.0.0.1", self.port) and self._metadata_answers():
                return
            time.sleep(0.25)
        raise TimeoutError(f"Kafka did not answer on {self.bootstrap_servers} within {wait_s:.0f}s")

    def _metadata_answers(self, timeout_s: float = 10.0) -> bool:
        """This node answers a metadata request and counts itself among the live brokers, within `timeout_s`
        (the admin client runs in a thread of its own: on a starved machine it has been seen to hang past its
        request timeout, and readiness must not hang with it)."""
        import threading

        answer: list[bool] = []

        def ask() -> None:
            try:
                from kafka import KafkaAdminClient

                options = self.tls.client_options(ADMIN_USER) if self.tls else {}
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000,
                                         bootstrap_timeout_ms=5000, **options)
                try:
                    admin.list_topics()
                    answer.append(self.node_id in {b["broker_id"] for b in admin.describe_cluster()["brokers"]})
                finally:
                    admin.close()
            except Exception:  # noqa: BLE001 - not ready yet
                answer.append(False)

        asking = threading.Thread(target=ask, daemon=True, name=f"kafka-{self.node_id}-ready")
        asking.start()
        asking.join(timeout_s)
        return bool(answer and answer[0])

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._signal(signal.SIGTERM, timeout_s)

    @property
    def running(self) -> bool:
        pid = self.process.pid if self.process else _read_pid(self.pid_file)
        return pid is not None and _alive(pid, self.process)

    def _signal(self, signum: int, timeout_s: float = 10.0) -> None:
        pid = self.process.pid if self.process else _read_pid(self.pid_file)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signum)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid, self.process):
            time.sleep(0.1)
        if _alive(pid, self.process):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            time.sleep(0.5)
        if self.process:
            self.process.wait(timeout=10)
        self.process = None
        self.pid_file.unlink(missing_ok=True)
        # The port must be free before a restart binds it again.
        deadline = time.monotonic() + 15
        while port_open("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.1)


SECURITY_MODES = ("plaintext", "sasl_ssl")
ADMIN_USER = "admin"
SERVICES = ("catalog", "deals", "conflict")


class ClusterSecrets:
    """A throwaway CA, the brokers' certificate, a client certificate and a SCRAM password per user, made once per
    cluster directory (a restart of the same cluster keeps them: its users live in its metadata log).

    The CA's key is never written: nothing can sign another certificate for this cluster afterwards.
    """

    def __init__(self, directory: Path, users: tuple[str, ...] = (ADMIN_USER, *SERVICES)):
        self.directory = Path(directory)
        self.users = users
        self.ca_file = self.directory / "ca.pem"
        self.broker_keystore = self.directory / "broker-keystore.pem"
        self._passwords: dict[str, str] = {}

    def password(self, user: str) -> str:
        return self._passwords[user]

    def certfile(self, user: str) -> Path:
        return self.directory / f"{user}.pem"

    def keyfile(self, user: str) -> Path:
        return self.directory / f"{user}.key"

    def client_options(self, user: str) -> dict[str, Any]:
        return self.security(user).client_options()

    def security(self, user: str, mechanism: str = "SCRAM-SHA-512") -> Any:
        from shared.bus import KafkaSecurity

        return KafkaSecurity(protocol="SASL_SSL", sasl_mechanism=mechanism, username=user,
                             password=self.password(user), cafile=str(self.ca_file),
                             certfile=str(self.certfile(user)), keyfile=str(self.keyfile(user)))

    def env(self, user: str) -> dict[str, str]:
        """What a Dealgate process running as `user` is given (shared/config.py reads it)."""
        return {"DEALGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "DEALGATE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "DEALGATE_KAFKA_SASL_USERNAME": user, "DEALGATE_KAFKA_SASL_PASSWORD": self.password(user),
                "DEALGATE_KAFKA_SSL_CAFILE": str(self.ca_file), "DEALGATE_KAFKA_SSL_CERTFILE": str(self.certfile(user)),
                "DEALGATE_KAFKA_SSL_KEYFILE": str(self.keyfile(user))}

    def ensure(self) -> ClusterSecrets:
        import json
        import secrets

        passwords_file = self.directory / "passwords.json"
        if passwords_file.exists() and self.broker_keystore.exists():
            self._passwords = json.loads(passwords_file.read_text())
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        self._passwords = {user: secrets.token_urlsafe(24) for user in self.users}
        self._make_certificates()
        passwords_file.write_text(json.dumps(self._passwords))
        passwords_file.chmod(0o600)
        return self

    def _make_certificates(self) -> None:
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.UTC)

        def key() -> ec.EllipticCurvePrivateKey:  # P-256: as strong as RSA-3072, made in a millisecond
            return ec.generate_private_key(ec.SECP256R1())

        def name(common: str) -> x509.Name:
            return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dealgate local Kafka"),
                              x509.NameAttribute(NameOID.COMMON_NAME, common)])

        ca_key = key()
        ca = (x509.CertificateBuilder().subject_name(name("Dealgate throwaway CA")).issuer_name(name(
            "Dealgate throwaway CA")).public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(ca_key, hashes.SHA256()))

        def issue(common: str, *, server: bool) -> tuple[bytes, bytes]:
            leaf_key = key()
            builder = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(ca.subject)
                       .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
                       .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                       # a broker is a server to clients and a client to the other brokers and controllers
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, *(
                           [ExtendedKeyUsageOID.SERVER_AUTH] if server else [])]), critical=False))
            if server:
                import ipaddress

                builder = builder.add_extension(x509.SubjectAlternativeName([
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
            certificate = builder.sign(ca_key, hashes.SHA256())
            private = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
            return certificate.public_bytes(serialization.Encoding.PEM), private

        def write(path: Path, data: bytes) -> None:
            path.write_bytes(data)
            path.chmod(0o600)

        write(self.ca_file, ca.public_bytes(serialization.Encoding.PEM))
        certificate, private = issue("kafka-broker", server=True)
        write(self.broker_keystore, private + certificate)
        for user in self.users:
            certificate, private = issue(user, server=False)
            write(self.certfile(user), certificate)
            write(self.keyfile(user), private)


def service_acls(service: str) -> list[tuple[str, str, str, str]]:
    """(resource type, name, pattern, operation) the service's Kafka user is allowed, and nothing else: write the
    topics it publishes, read the ones it consumes (shared.topics.CONSUMED_BY) in its own groups (dealgate-<service>,
    dealgate-<service>-webhooks...), write the dead-letter
    topics of those, see every Dealgate topic (its metrics report every DLQ's depth; ensure_topics lists them), and
    read the configs of what it publishes (the relay checks the broker's message limit)."""
    from shared.topics import CONSUMED_BY, PUBLISHED_BY, TOPICS, dlq_name

    acls = [("TOPIC", spec.name, "LITERAL", "DESCRIBE") for spec in TOPICS]
    for topic in PUBLISHED_BY[service]:
        acls += [("TOPIC", topic, "LITERAL", "WRITE"), ("TOPIC", topic, "LITERAL", "DESCRIBE_CONFIGS")]
    for topic in CONSUMED_BY[service]:
        acls += [("TOPIC", topic, "LITERAL", "READ"), ("TOPIC", dlq_name(topic), "LITERAL", "WRITE")]
    if CONSUMED_BY[service]:
        acls.append(("GROUP", f"dealgate-{service}", "PREFIXED", "READ"))
    return acls


class KafkaCluster:
    """`brokers` combined broker+controller nodes in one KRaft quorum on 127.0.0.1: node i (from 1) listens for
    clients on port + 2(i-1) and for its controller peers on the port after. One node is a plain single broker, in
    `data_dir` itself (as `make run` always had it); three live in data_dir/node-<i>.

    security="sasl_ssl": TLS and SASL on every listener with a throwaway CA (ClusterSecrets), a SCRAM user per
    service with ACLs that let it write only its own topics, and `admin` (the only super user) for tools and tests.
    """

    def __init__(self, data_dir: Path, *, port: int = 9092, brokers: int = 1, security: str = "plaintext",
                 heap: str = "512m"):
        if brokers < 1:
            raise ValueError("a cluster has at least one broker")
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}, not {security!r}")
        self.data_dir = Path(data_dir)
        self.security = security
        self.secrets = ClusterSecrets(self.data_dir / "tls") if security == "sasl_ssl" else None
        voters = ",".join(f"{i + 1}@127.0.0.1:{port + 2 * i + 1}" for i in range(brokers))
        self.replication_factor = min(3, brokers)
        # acks=all then needs two copies, and a topic stays writable with one broker down
        self.min_insync_replicas = 2 if brokers >= 3 else 1
        self.nodes = [KafkaBroker(self.data_dir if brokers == 1 else self.data_dir / f"node-{i + 1}",
                                  port=port + 2 * i, controller_port=port + 2 * i + 1, heap=heap, node_id=i + 1,
                                  voters=voters, replication=self.replication_factor, tls=self.secrets)
                      for i in range(brokers)]

    @property
    def port(self) -> int:
        return self.nodes[0].port

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    def log_files(self) -> list[Path]:
        return [path for node in self.nodes for path in node.data_dir.glob("*.log")]

    def client_security(self, user: str = ADMIN_USER) -> Any:
        """The KafkaSecurity a client acting as `user` connects with (PLAINTEXT on an open cluster)."""
        from shared.bus import PLAINTEXT

        return self.secrets.security(user) if self.secrets else PLAINTEXT

    def client_env(self, user: str) -> dict[str, str]:
        """The environment a Dealgate process running as `user` (a service name) needs to reach this cluster."""
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
               "DEALGATE_KAFKA_REPLICATION_FACTOR": str(self.replication_factor),
               "DEALGATE_KAFKA_MIN_INSYNC_REPLICAS": str(self.min_insync_replicas)}
        if self.secrets:
            self.secrets.ensure()
            env.update(self.secrets.env(user))
        return env

    def admin(self, **options: Any) -> Any:
        from kafka import KafkaAdminClient

        return KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id="dealgate-cluster-admin",
                                **self.client_security().client_options(), **options)

    def ask(self, question: Any, timeout_s: float = 15.0) -> Any:
        """question(admin) with a fresh admin client, in a thread of its own and at most `timeout_s` (a starved
        machine has been seen to leave kafka-python's admin calls hanging past their request timeout)."""
        import threading

        outcome: list[Any] = []

        def run() -> None:
            try:
                admin = self.admin(request_timeout_ms=5_000, bootstrap_timeout_ms=5_000)
                try:
                    outcome.append((True, question(admin)))
                finally:
                    admin.close()
            except Exception as exc:  # noqa: BLE001 - handed to the caller below
                outcome.append((False, exc))

        asking = threading.Thread(target=run, daemon=True, name="kafka-cluster-ask")
        asking.start()
        asking.join(timeout_s)
        if not outcome:
            raise TimeoutError(f"no answer from {self.bootstrap_servers} within {timeout_s:.0f}s")
        answered, value = outcome[0]
        if not answered:
            raise value
        return value

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self, wait_s: float = 90.0) -> KafkaCluster:
        if self.secrets:
            self.secrets.ensure()
        cluster_id = self._cluster_id()
        for node in self.nodes:
            if not node.running:
                node.spawn(cluster_id)
        for node in self.nodes:
            node.wait_ready(wait_s)
        if self.secrets:
            self.grant_service_acls()
        return self

    def _cluster_id(self) -> uuid.UUID:
        """One id for every node of the cluster, kept beside them so that a restart formats nothing anew."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "cluster.id"
        with contextlib.suppress(OSError, ValueError):
            return uuid.UUID(path.read_text().strip())
        cluster_id = uuid.uuid4()
        path.write_text(str(cluster_id))
        return cluster_id

    def stop(self, timeout_s: float = 30.0) -> None:
        for node in self.nodes:  # all at once: a quorum that loses a voter at a time only slows the rest down
            with contextlib.suppress(ProcessLookupError):
                pid = node.process.pid if node.process else _read_pid(node.pid_file)
                if pid is not None:
                    os.killpg(pid, signal.SIGTERM)
        for node in self.nodes:
            node.stop(timeout_s)

    def kill(self) -> None:
        """SIGKILL every node, as a power cut would."""
        for node in self.nodes:
            node.kill()

    def kill_node(self, node_id: int) -> None:
        self.nodes[node_id - 1].kill()

    def start_node(self, node_id: int, wait_s: float = 60.0) -> None:
        node = self.nodes[node_id - 1]
        node.spawn(self._cluster_id())
        node.wait_ready(wait_s)

    def leader_counts(self, topics: Iterable[str] | None = None) -> dict[int, int]:
        """How many partitions of `topics` (default: Dealgate's and the consumer offsets, whose leaders are the
        groups' coordinators) each live node leads."""
        from shared.topics import TOPICS

        names = list(topics) if topics is not None else [spec.name for spec in TOPICS] + ["__consumer_offsets"]

        def count(admin: Any) -> dict[int, int]:
            counts = {b["broker_id"]: 0 for b in admin.describe_cluster()["brokers"]}
            for topic in admin.describe_topics(names):
                for partition in topic.get("partitions", ()):
                    leader = partition.get("leader_id", -1)
                    if leader in counts:
                        counts[leader] += 1
            return counts

        return self.ask(count)

    def wait_in_sync(self, timeout_s: float = 60.0) -> float:
        """Wait until every replica of Dealgate's topics is in sync again (a restarted broker caught up), so that
        killing another broker leaves min.insync.replicas; returns the seconds it took."""
        from shared.topics import TOPICS

        started = time.monotonic()
        names = [spec.name for spec in TOPICS]
        while time.monotonic() - started < timeout_s:
            with contextlib.suppress(Exception):  # a broker may be between states: ask again
                lagging = [(topic["topic"], partition["partition_index"])
                           for topic in self.ask(lambda admin: admin.describe_topics(names))
                           for partition in topic.get("partitions", ())
                           if len(partition["isr_nodes"]) < len(partition["replica_nodes"])]
                if not lagging:
                    return time.monotonic() - started
            time.sleep(0.5)
        raise TimeoutError(f"replicas still out of sync after {timeout_s:.0f}s")

    def grant_service_acls(self) -> None:
        from kafka.admin import ACL, ACLOperation, ACLPermissionType, ResourcePattern, ResourceType
        from kafka.admin import ACLResourcePatternType as Pattern

        acls = [ACL(principal=f"User:{service}", host="*", operation=ACLOperation[operation],
                    permission_type=ACLPermissionType.ALLOW,
                    resource_pattern=ResourcePattern(ResourceType[kind], name, Pattern[pattern]))
                for service in SERVICES for kind, name, pattern, operation in service_acls(service)]
        admin = self.admin()
        try:
            result = admin.create_acls(acls)
        finally:
            admin.close()
        if result["failed"]:
            raise RuntimeError(f"Kafka refused ACLs: {result['failed'][:3]}")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int, process: subprocess.Popen | None) -> bool:
    if process is not None:
        return process.poll() is None
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


LOG4J2_CONFIG = """Configuration:
  Appenders:
    File:
      name: FILE
      fileName: "@LOG@"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: FILE
    Logger:
      - name: kafka
        level: WARN
      - name: org.apache.kafka
        level: WARN
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.kafka")
    parser.add_argument("action", choices=("fetch", "start", "stop", "status"))
    parser.add_argument("--data-dir", default=str(REPO / "var" / "kafka"))
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--brokers", type=int, default=int(os.environ.get("BROKERS") or 1))
    parser.add_argument("--security", choices=SECURITY_MODES,
                        default=(os.environ.get("KAFKA_SECURITY") or "plaintext").lower())
    args = parser.parse_args(argv)
    cluster = KafkaCluster(Path(args.data_dir), port=args.port, brokers=args.brokers, security=args.security)
    if args.action == "fetch":
        print(fetch_jars())
    elif args.action == "start":
        if port_open("127.0.0.1", args.port):
            print(f"Kafka already answers on 127.0.0.1:{args.port}")
        else:
            cluster.start()
            print(f"Kafka {KAFKA_VERSION} ready on {cluster.bootstrap_servers} ({args.brokers} broker(s), "
                  f"{args.security}; data in {cluster.data_dir})")
    elif args.action == "stop":
        cluster.stop()
    else:
        print("up" if port_open("127.0.0.1", args.port) else "down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
