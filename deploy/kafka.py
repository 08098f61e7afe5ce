"""A local single-node Apache Kafka in KRaft mode: jars from Maven Central into a cache, then format and start.

python -m deploy.kafka fetch|start|stop|status   (the stack and the test suite use the same functions)
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
from pathlib import Path

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
    """One broker+controller process. `data_dir` holds its config, log and data."""

    def __init__(self, data_dir: Path, *, port: int = 9092, controller_port: int | None = None,
                 heap: str = "512m"):
        self.data_dir = Path(data_dir)
        self.port = port
        self.controller_port = controller_port or port + 1
        self.heap = heap
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    def _properties(self) -> str:
        return "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={self.data_dir / 'logs'}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "log.retention.hours=168",
            "log.cleaner.backoff.ms=5000",
            # A case event carries its registrations and evidence; a large case can pass Kafka's 1 MB default.
            "message.max.bytes=8388608",
            "replica.fetch.max.bytes=8388608",
            "",
        ])

    def _classpath(self) -> str:
        return str(fetch_jars() / "*")

    def format_storage(self, cluster_id: uuid.UUID | None = None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(self._properties())
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        import base64

        cluster = base64.urlsafe_b64encode((cluster_id or uuid.uuid4()).bytes).decode().rstrip("=")
        # "--cluster-id=ID", not "-t ID": a URL-safe base64 id can start with "-" and would read as an option.
        subprocess.run([_java(), "-cp", self._classpath(), "kafka.tools.StorageTool", "format",  # noqa: S603 - fixed argv
                        f"--cluster-id={cluster}", "-c", str(config)], check=True, stdout=subprocess.DEVNULL)

    def start(self, wait_s: float = 60.0) -> KafkaBroker:
        self.format_storage()
        log4j = self.data_dir / "log4j2.yaml"
        log4j.write_text(LOG4J2_CONFIG.replace("@LOG@", str(self.data_dir / "server.log")))
        with open(self.data_dir / "stdout.log", "ab") as log_file:  # the broker keeps its own copy of the descriptor
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv of ours
                [_java(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1",
                 f"-Dlog4j2.configurationFile={log4j}", "-cp", self._classpath(), "kafka.Kafka",
                 str(self.data_dir / "server.properties")],
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(str(self.process.pid))
        self.wait_ready(wait_s)
        return self

    def wait_ready(self, wait_s: float = 60.0) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Kafka exited with {self.process.returncode}; see {self.data_dir}/server.log")
            if port_open("127.0.0.1", self.port) and self._metadata_answers():
                return
            time.sleep(0.25)
        raise TimeoutError(f"Kafka did not answer on {self.bootstrap_servers} within {wait_s:.0f}s")

    def _metadata_answers(self) -> bool:
        try:
            from kafka import KafkaAdminClient

            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000)
            try:
                admin.list_topics()
                return True
            finally:
                admin.close()
        except Exception:  # noqa: BLE001 - not ready yet
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._signal(signal.SIGTERM, timeout_s)

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
    args = parser.parse_args(argv)
    broker = KafkaBroker(Path(args.data_dir), port=args.port)
    if args.action == "fetch":
        print(fetch_jars())
    elif args.action == "start":
        if port_open("127.0.0.1", args.port):
            print(f"Kafka already answers on 127.0.0.1:{args.port}")
        else:
            broker.start()
            print(f"Kafka {KAFKA_VERSION} ready on {broker.bootstrap_servers} (data in {broker.data_dir})")
    elif args.action == "stop":
        broker.stop()
    else:
        print("up" if port_open("127.0.0.1", args.port) else "down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
