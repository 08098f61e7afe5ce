"""Fixtures for the real dependencies, and the suite's progress report.

The suite starts PostgreSQL and Kafka itself when they are not running, once per session, and shares them.
The progress report names each layer (unit, contract, integration, e2e) as it starts and ends, with its time;
a failing test is named at once, with the log files of the processes it ran.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from deploy.kafka import KafkaCluster, port_open
from deploy.postgres import LocalPostgres

# Several checkouts (or engineers) can run the suite side by side with distinct offsets and directories.
PORT_OFFSET = int(os.environ.get("DEALGATE_TEST_PORT_OFFSET", "0"))
TEST_KAFKA_PORT = 19092 + PORT_OFFSET
TEST_PG_PORT = 15433 + PORT_OFFSET
# make test BROKERS=3: the suite's Kafka is a quorum of three brokers (ports TEST_KAFKA_PORT, +2, +4) and the e2e stack
# makes its topics with replication factor 3 and min ISR 2.
TEST_BROKERS = int(os.environ.get("DEALGATE_TEST_BROKERS") or 1)
RUN_DIR = Path(os.environ.get("DEALGATE_TEST_DIR") or Path(tempfile.gettempdir()) / f"dealgate-test-{PORT_OFFSET}")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- progress ----------------------------------------------------------------------------------------------------

# The layers in the order they run: fast feedback first, the real processes last.
LAYERS = {
    "unit": "fakes and in-memory twins",
    "contract": "all three services in one process over the in-memory bus",
    "integration": "real PostgreSQL and Kafka, and SQLite",
    "e2e": "the real gunicorn APIs and workers",
}


def layer_of(nodeid: str) -> str:
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" and parts[1] in LAYERS else "other"


def announce(config: pytest.Config, message: str) -> None:
    """A line on the terminal now, even from inside a fixture while output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        print(message)
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(message)
    else:
        reporter.write_line(message)


def _duration(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


class SuiteProgress:
    """The pytest plugin behind the progress report: `---- layer e2e: 127 tests (...) ----` as a layer starts,
    `layer e2e done in 3m05.2s: 126 passed, 1 failed` as it ends, a failing test named at once with its logs,
    and a table of the layers in the closing note."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.planned: dict[str, int] = {}
        self.outcomes: dict[str, dict[str, str]] = {}  # layer -> nodeid -> outcome
        self.times: dict[str, float] = {}
        self.current: str | None = None
        self.layer_started = 0.0
        self.test_started: dict[str, float] = {}
        self.session_started = time.monotonic()

    @property
    def reporter(self):
        return self.config.pluginmanager.get_plugin("terminalreporter")

    def _say(self, text: str, *, progress: bool = True, **markup) -> bool:
        if self.reporter is None or self.config.get_verbosity() < 0:
            return False
        self._end_line(progress)
        self.reporter.write_line(text, **markup)
        return True

    def _end_line(self, progress: bool = True) -> None:
        """Finish the reporter's line of dots, with its [ nn%] as it would at the next file, before ours
        (after the last test the reporter has written it already)."""
        reporter = self.reporter
        if progress and getattr(reporter, "currentfspath", None) is not None \
                and getattr(reporter, "_show_progress_info", False) \
                and hasattr(reporter, "_write_progress_information_filling_space"):
            reporter._write_progress_information_filling_space()
        reporter.ensure_newline()

    # -- hooks -----------------------------------------------------------------------------------------------
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Unit, contract, integration, then e2e; within e2e, the modules that bring their own stack (the short
        chaos run) go before the shared stack starts, so that two stacks never share the cores."""
        rank = {layer: index for index, layer in enumerate(LAYERS)}
        shared_stack_modules = {str(item.path) for item in items
                                if layer_of(item.nodeid) == "e2e" and "stack" in getattr(item, "fixturenames", ())}
        items.sort(key=lambda item: (rank.get(layer_of(item.nodeid), len(rank)),
                                     str(item.path) in shared_stack_modules))
        for item in items:
            layer = layer_of(item.nodeid)
            self.planned[layer] = self.planned.get(layer, 0) + 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.test_started[nodeid] = time.time()
        layer = layer_of(nodeid)
        if layer == self.current:
            return
        self.finish_layer()
        self.current, self.layer_started = layer, time.monotonic()
        if self.reporter is not None and self.config.get_verbosity() >= 0:
            about = LAYERS.get(layer, "")
            self._end_line()
            self.reporter.write_sep("-", f"layer {layer}: {self.planned.get(layer, 0)} tests"
                                         + (f" ({about})" if about else ""))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item):
        report = yield
        if report.failed:
            logs = logs_of(item, self.test_started.get(item.nodeid, time.time()))
            if logs:
                report.sections.append(("logs of the processes it ran", "\n".join(str(path) for path in logs)))
            report.dealgate_logs = [str(path) for path in logs]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcomes = self.outcomes.setdefault(layer_of(report.nodeid), {})
        if report.failed:
            outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
            phase = "" if report.when == "call" else f" (in {report.when})"
            logs = getattr(report, "dealgate_logs", [])
            if self._say(f"FAILED {report.nodeid}{phase} after {report.duration:.1f}s"
                         + ("; logs of the processes it ran:" if logs else ""), red=True):
                for path in logs[:30]:
                    self.reporter.write_line(f"    {path}")
                if len(logs) > 30:
                    self.reporter.write_line(f"    ... and {len(logs) - 30} more under {RUN_DIR}")
        elif report.skipped:
            outcomes.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            outcomes.setdefault(report.nodeid, "passed")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.finish_layer(last=True)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if len(self.times) < 2:
            return
        terminalreporter.write_sep("=", "layers")
        for layer, seconds in self.times.items():
            terminalreporter.write_line(f"{layer:12s} {_duration(seconds):>9s}   {self.counts(layer)}")
        terminalreporter.write_line(f"{'all':12s} {_duration(time.monotonic() - self.session_started):>9s}")

    # -- helpers ---------------------------------------------------------------------------------------------
    def counts(self, layer: str) -> str:
        tally: dict[str, int] = {}
        for outcome in self.outcomes.get(layer, {}).values():
            tally[outcome] = tally.get(outcome, 0) + 1
        order = ("passed", "failed", "error", "skipped")
        return ", ".join(f"{tally[o]} {o}" for o in order if tally.get(o)) or "nothing ran"

    def finish_layer(self, last: bool = False) -> None:
        if self.current is None:
            return
        self.times[self.current] = time.monotonic() - self.layer_started
        failed = any(o in ("failed", "error") for o in self.outcomes.get(self.current, {}).values())
        self._say(f"layer {self.current} done in {_duration(self.times[self.current])}: {self.counts(self.current)}",
                  progress=not last, bold=True, red=failed, green=not failed)
        self.current = None


KAFKA_SEGMENT = re.compile(r"^\d{20}\.log$")


def logs_of(item: pytest.Item, since: float) -> list[Path]:
    """The log files of the processes a test ran: its stack's logs, and any *.log under the suite's run
    directory or the test's tmp_path written since it started."""
    found: set[Path] = set()
    funcargs = getattr(item, "funcargs", {})
    stack = funcargs.get("stack")
    if stack is not None:
        found.update(Path(stack.log_dir).glob("*.log"))
        found.update(stack.kafka.log_files())  # each broker's server.log, stdout.log
    roots = [RUN_DIR] + ([Path(funcargs["tmp_path"])] if funcargs.get("tmp_path") else [])
    for root in roots:
        for path in root.rglob("*.log") if root.exists() else ():
            if KAFKA_SEGMENT.match(path.name):
                continue  # Kafka's data segments are *.log files too
            try:
                if path.stat().st_mtime >= since - 1:
                    found.add(path)
            except OSError:
                continue
    return sorted(found)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SuiteProgress(config), "dealgate-suite-progress")


# -- the real dependencies ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def kafka_broker(pytestconfig) -> KafkaCluster | None:
    """The suite's Kafka (one broker, or DEALGATE_TEST_BROKERS in one quorum): the integration tests use it with
    topics of their own, and the e2e stack runs on it afterwards. None when a Kafka already answers on the test port
    (then that one is used as is)."""
    if port_open("127.0.0.1", TEST_KAFKA_PORT):
        announce(pytestconfig, f"[suite] using the Kafka already answering on 127.0.0.1:{TEST_KAFKA_PORT}")
        yield None
        return
    broker = KafkaCluster(RUN_DIR / f"kafka-{uuid.uuid4().hex[:6]}", port=TEST_KAFKA_PORT, brokers=TEST_BROKERS)
    started = time.monotonic()
    announce(pytestconfig, f"[suite] starting Kafka ({TEST_BROKERS} broker(s)) for the suite on "
                           f"{broker.bootstrap_servers} (logs: {broker.data_dir}/**/server.log) ...")
    broker.start()
    announce(pytestconfig, f"[suite] Kafka ready in {time.monotonic() - started:.1f}s")
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker) -> str:
    """A real Kafka broker for the whole session (reused if one already answers on the test port)."""
    return kafka_broker.bootstrap_servers if kafka_broker is not None else f"127.0.0.1:{TEST_KAFKA_PORT}"


@pytest.fixture(scope="session")
def postgres_cluster(pytestconfig) -> LocalPostgres:
    cluster = LocalPostgres(RUN_DIR / "postgres", port=TEST_PG_PORT)
    was_running = cluster.is_running()
    if not was_running:
        started = time.monotonic()
        announce(pytestconfig, f"[suite] starting PostgreSQL for the suite on 127.0.0.1:{TEST_PG_PORT} "
                               f"(log: {cluster.data_dir / 'server.log'}) ...")
        cluster.start()
        announce(pytestconfig, f"[suite] PostgreSQL ready in {time.monotonic() - started:.1f}s")
    yield cluster
    if not was_running:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster) -> str:
    """A fresh, empty database for one test."""
    name = "t_" + uuid.uuid4().hex[:12]
    url = postgres_cluster.create_database(name)
    yield url
    postgres_cluster.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Run a test on both stores: SQLite (the embedded default) and PostgreSQL (production)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")
