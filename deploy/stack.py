"""Runs the whole system on this machine: Kafka, then per service its gunicorn API and its workers.

python -m deploy.stack run    foreground; Ctrl-C stops everything       (make run)
python -m deploy.stack up     background; returns once all are ready   (make up)
    --brokers 3               a KRaft quorum of three brokers, topics replicated 3 with min ISR 2   (make up BROKERS=3)
    --kafka-security sasl_ssl TLS + SASL, a SCRAM user and ACLs per service   (make up KAFKA_SECURITY=sasl_ssl)
python -m deploy.stack down   stops everything `up` started             (make down)
python -m deploy.stack status
python -m deploy.stack supervise   what `up` runs detached: brings everything up and restarts what crashes
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from deploy.kafka import ADMIN_USER, SECURITY_MODES, KafkaCluster, port_open
from deploy.keycloak import DESK_USER, Keycloak

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# service -> the worker modules it runs besides its API
SERVICES = {
    "catalog": ("relay",),
    "deals": ("relay", "consume", "expire", "webhooks"),
    "conflict": ("relay", "consume"),
}
DEMO_IDENTITIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("partner", {"partner_id": "acme-reseller", "channel": "reseller"}),
    ("partner", {"partner_id": "globex-distribution", "channel": "distributor"}),
    ("marketplace", {"partner_id": "cloud-marketplace"}),
    ("sales", {}),
    ("desk", {}),
    ("admin", {}),
)


@dataclasses.dataclass
class Ports:
    kafka: int = 9092
    keycloak: int = 8080  # only with IDP=keycloak
    http: dict = dataclasses.field(default_factory=lambda: {"catalog": 8001, "deals": 8002, "conflict": 8003})
    doorbell: dict = dataclasses.field(default_factory=lambda: {"catalog": 9301, "deals": 9302, "conflict": 9303})


class Stack:
    def __init__(self, var_dir: Path = REPO / "var", ports: Ports | None = None, env: dict | None = None,
                 http_workers: int | None = None, idp: str | None = None, brokers: int = 1,
                 kafka_security: str = "plaintext"):
        self.var_dir = Path(var_dir)
        self.ports = ports or Ports()
        self.extra_env = dict(env or {})
        self.http_workers = http_workers
        self.state_file = self.var_dir / "run" / "stack.json"
        self.log_dir = self.var_dir / "log"
        self.kafka = KafkaCluster(self.var_dir / "kafka", port=self.ports.kafka, brokers=brokers,
                                  security=kafka_security)
        self.processes: dict[str, subprocess.Popen] = {}
        # idp="keycloak": a local Keycloak (deploy/keycloak.py) is the services' OpenID Connect issuer.
        self.idp = idp
        self.keycloak = (Keycloak(self.var_dir / "keycloak", port=self.ports.keycloak,
                                  desk_urls=(self.url("conflict") + "/desk",),
                                  portal_urls=(self.url("deals") + "/portal",)) if idp == "keycloak" else None)

    # -- environment ---------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DEALGATE_VAR_DIR": str(self.var_dir),
            "PYTHONUNBUFFERED": "1",
        })
        # The brokers and what the topics get; each service's own Kafka user (if any) comes in service_env.
        env.update({name: value for name, value in self.kafka.client_env(ADMIN_USER).items()
                    if not name.startswith(("DEALGATE_KAFKA_SASL", "DEALGATE_KAFKA_SSL", "DEALGATE_KAFKA_SECURITY"))})
        for service in SERVICES:
            env[f"{service.upper()}_RELAY_DOORBELL_PORT"] = str(self.ports.doorbell[service])
        if self.http_workers:
            env["DEALGATE_HTTP_WORKERS"] = str(self.http_workers)
        if self.keycloak is not None:
            env["DEALGATE_OIDC_ISSUER"] = self.keycloak.issuer
        env.update(self.extra_env)
        return env

    def service_env(self, service: str) -> dict[str, str]:
        """What a process of `service` runs with: its Kafka user's credentials on a secured cluster."""
        return {**self.env(), **self.kafka.client_env(service), **self.extra_env}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.http[service]}"

    # -- lifecycle -----------------------------------------------------------------------------------
    def up(self, *, progress=print, timeout_s: float = 120.0) -> None:
        started = time.monotonic()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "run").mkdir(parents=True, exist_ok=True)
        if self.state_file.exists():
            self.down(progress=lambda *_: None)
        state: dict[str, Any] = {"processes": {}, "kafka_started": False,
                                 "kafka": {"brokers": len(self.kafka.nodes), "security": self.kafka.security}}
        # The migrations need only their databases: they run while the JVM starts, not after it.
        migrations = {service: self.start_migration(service) for service in SERVICES}
        if self.keycloak is not None:
            progress(f"starting Keycloak on {self.keycloak.url} alongside (log: {self.keycloak.log_file}) ...")
            state["keycloak_started"] = True
            self._save(state)
            self.keycloak.spawn()
        try:
            if port_open("127.0.0.1", self.ports.kafka):
                progress(f"Kafka already answers on 127.0.0.1:{self.ports.kafka}; using it")
            else:
                brokers = len(self.kafka.nodes)
                shape = "single node" if brokers == 1 else f"{brokers} brokers in one quorum"
                progress(f"starting Kafka (KRaft, {shape}, {self.kafka.security}) while the databases migrate ...")
                state["kafka_started"] = True  # recorded first, so a failed start is still cleaned up by down
                self._save(state)
                self.kafka.start()
                progress(f"Kafka ready in {time.monotonic() - started:.1f}s")
        finally:
            failed = {service: process.wait() for service, process in migrations.items()}
        failed = {service: code for service, code in failed.items() if code != 0}
        if failed:
            raise RuntimeError("migration failed: " + ", ".join(
                f"{service} (exit {code}; see {self.log_dir / service}-migrate.log)"
                for service, code in failed.items()))
        progress(f"databases migrated in {time.monotonic() - started:.1f}s")
        self._save(state)
        self.create_topics()
        for service, workers in SERVICES.items():
            state["processes"][f"{service}-api"] = self.start_api(service).pid
            for worker in workers:
                state["processes"][f"{service}-{worker}"] = self.start_worker(service, worker).pid
            self._save(state)
        progress("waiting for every service to answer /readyz ...")
        self.wait_ready(timeout_s=timeout_s)
        progress(f"all services ready in {time.monotonic() - started:.1f}s")
        self.seed_catalog(progress=progress)
        if self.keycloak is not None:
            progress("waiting for Keycloak ...")
            self.keycloak.wait_ready()
            progress(f"Keycloak ready in {time.monotonic() - started:.1f}s: issuer {self.keycloak.issuer}")

    def seed_catalog(self, *, progress=print) -> None:
        """The demo catalog, through the API like real data; listings already there are skipped."""
        from deploy.seed_catalog import seed
        from shared.auth import TokenService
        from shared.config import Settings

        settings = Settings.from_env("catalog", self.env())
        seed(self.url("catalog"), TokenService(settings.jwt_secret, settings.jwt_issuer).issue("admin"),
             progress=progress)

    def create_topics(self) -> None:
        from shared.bus import KafkaBus

        KafkaBus(self.kafka.bootstrap_servers, client_id="dealgate-stack", security=self.kafka.client_security(),
                 replication_factor=self.kafka.replication_factor,
                 min_insync_replicas=self.kafka.min_insync_replicas).ensure_topics()

    def migrate(self, service: str) -> None:
        """Bring one service's database to the newest schema, and wait for it."""
        if self.start_migration(service).wait() != 0:
            raise RuntimeError(f"{service} migration failed; see {self.log_dir / service}-migrate.log")

    def start_migration(self, service: str) -> subprocess.Popen:
        return self._spawn(f"{service}-migrate", [PYTHON, "-m", f"services.{service}.workers.migrate"],
                           self.service_env(service), track=False)

    def start_api(self, service: str) -> subprocess.Popen:
        env = self.service_env(service)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.var_dir / "run" / f"prometheus-{service}")
        command = [PYTHON, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
                   "--bind", f"127.0.0.1:{self.ports.http[service]}", f"services.{service}.app:create_app()"]
        return self._spawn(f"{service}-api", command, env)

    def start_worker(self, service: str, worker: str, extra_env: dict | None = None,
                     name: str | None = None) -> subprocess.Popen:
        """Start a worker; give a `name` to run another instance beside the usual one (e.g. a second consumer)."""
        name = name or f"{service}-{worker}"
        env = {**self.service_env(service), **(extra_env or {})}
        process = self._spawn(name, [PYTHON, "-m", f"services.{service}.workers.{worker}"], env)
        state = self._load()
        if state:
            state.setdefault("processes", {})[name] = process.pid
            self._save(state)
        return process

    def kill(self, name: str, signum: int = signal.SIGKILL, timeout_s: float = 20.0) -> int | None:
        """Signal one process (and its children) and wait for it to end; returns its exit code."""
        process = self.processes[name]
        _signal_group(process.pid, signum)
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            return process.wait(timeout=10)

    def _spawn(self, name: str, command: list[str], env: dict, track: bool = True) -> subprocess.Popen:
        """Start a process of ours with its output in log/<name>.log; `track` it when it is meant to keep running."""
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log,  # noqa: S603 - our own modules
                                       stderr=subprocess.STDOUT, start_new_session=True)
        if track:
            self.processes[name] = process
        return process

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(SERVICES)
        while pending and time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_dir / name}.log")
            for service in list(pending):
                try:
                    url = self.url(service) + "/readyz"  # http://127.0.0.1:<port>, of our own making
                    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - see above
                        if response.status == 200:
                            pending.discard(service)
                except OSError:
                    pass
            time.sleep(0.2)
        if pending:
            raise TimeoutError(f"not ready after {timeout_s:.0f}s: {', '.join(sorted(pending))}")

    def down(self, *, progress=print) -> None:
        state = self._load()
        pids = list(state.get("processes", {}).items())
        for _name, pid in pids:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(pid) for _, pid in pids):
            time.sleep(0.1)
        for name, pid in pids:
            if _alive(pid):
                progress(f"{name} did not stop in time; killing it")
                _signal_group(pid, signal.SIGKILL)
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        if state.get("kafka_started"):
            progress("stopping Kafka ...")
            shape = state.get("kafka") or {}
            kafka = self.kafka
            if shape and (shape.get("brokers"), shape.get("security")) != (len(kafka.nodes), kafka.security):
                # `make down` without the BROKERS=3 that `make up` had: stop what was started, not the default
                kafka = KafkaCluster(kafka.data_dir, port=self.ports.kafka, brokers=shape["brokers"],
                                     security=shape["security"])
            kafka.stop()
        if state.get("keycloak_started"):
            progress("stopping Keycloak ...")
            (self.keycloak or Keycloak(self.var_dir / "keycloak")).stop()
        self.state_file.unlink(missing_ok=True)
        progress("stopped")

    def supervise(self, stopping: list, *, progress=print, check_every_s: float = 0.5) -> None:
        """Restart any process that dies (with a growing pause if it keeps dying) until `stopping` is set.

        Offsets are committed only after each transaction and the outbox keeps what was not yet published,
        so restarting a crashed relay or consumer is always safe.
        """
        restarts: dict[str, list[float]] = {}
        while not stopping:
            for name, process in list(self.processes.items()):
                if process.poll() is None:
                    continue
                recent = [t for t in restarts.get(name, []) if time.monotonic() - t < 60]
                pause = min(30.0, 0.5 * 2 ** len(recent))
                if recent and time.monotonic() - recent[-1] < pause:
                    continue
                progress(f"{name} exited with {process.returncode}; restarting it (see {self.log_dir / name}.log)")
                service, _, worker = name.partition("-")
                if worker == "api":
                    self.processes[name] = self.start_api(service)
                else:
                    self.start_worker(service, worker, name=name)
                restarts[name] = recent + [time.monotonic()]
                state = self._load()
                state.setdefault("processes", {})[name] = self.processes[name].pid
                self._save(state)
            time.sleep(check_every_s)

    def status(self) -> dict[str, str]:
        state = self._load()
        report = {name: ("running" if _alive(pid) else "stopped") for name, pid in state.get("processes", {}).items()}
        for node in self.kafka.nodes:
            report[f"kafka-{node.node_id}" if len(self.kafka.nodes) > 1 else "kafka"] = \
                "up" if port_open("127.0.0.1", node.port) else "down"
        return report

    def _save(self, state: dict) -> None:
        self.state_file.write_text(json.dumps(state, indent=2))

    def _load(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our own exited child not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def print_welcome(stack: Stack) -> None:
    from shared.auth import TokenService, parse_ttl
    from shared.config import Settings

    settings = Settings.from_env("deals")
    tokens = TokenService(settings.jwt_secret, settings.jwt_issuer)
    print("\nDealgate is up:")
    print(f"  catalog   {stack.url('catalog')}   (OpenAPI: {stack.url('catalog')}/openapi.json)")
    print(f"  deals     {stack.url('deals')}   (OpenAPI: {stack.url('deals')}/openapi.json)")
    print(f"  conflict  {stack.url('conflict')}   (desk: {stack.url('conflict')}/desk)")
    print(f"  kafka     {stack.kafka.bootstrap_servers}   ({len(stack.kafka.nodes)} broker(s), {stack.kafka.security}; "
          f"topics replicated {stack.kafka.replication_factor}, min ISR {stack.kafka.min_insync_replicas})"
          f"     logs: {stack.log_dir}")
    if stack.kafka.secrets is not None:
        print(f"            TLS and SASL: CA {stack.kafka.secrets.ca_file}; a SCRAM user per service and admin, "
              f"passwords in {stack.kafka.secrets.directory / 'passwords.json'}")
    if stack.keycloak is not None:
        print(f"  keycloak  {stack.keycloak.url}   (issuer: {stack.keycloak.issuer}; console: admin/admin)")
        print(f"\nThe desk signs in through Keycloak as {DESK_USER[0]} / {DESK_USER[1]}. Real tokens for the realm's"
              " clients:\n  .venv/bin/dealgate token --role partner --partner-id acme --idp     (also globex; "
              "--role marketplace --partner-id cloud; --role sales; --role admin)")
    print("\nDemo tokens (valid 12h; make more with `dealgate token --role ROLE`):")
    for role, claims in DEMO_IDENTITIES:
        token = tokens.issue(role, ttl=parse_ttl("12h"), **claims)
        label = role + (f" ({claims['partner_id']})" if "partner_id" in claims else "")
        print(f"  {label:34s} {token}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack")
    parser.add_argument("action", choices=("run", "up", "down", "status", "supervise"))
    parser.add_argument("--idp", choices=("keycloak",), help="run a local Keycloak as the OpenID Connect issuer")
    parser.add_argument("--brokers", type=int, default=int(os.environ.get("BROKERS") or 1),
                        help="Kafka brokers in the local quorum (1 or 3)")
    parser.add_argument("--kafka-security", choices=SECURITY_MODES,
                        default=(os.environ.get("KAFKA_SECURITY") or "plaintext").lower(),
                        help="sasl_ssl: TLS and SASL with a SCRAM user and ACLs per service")
    args = parser.parse_args(argv)
    if args.action in ("down", "status"):  # whatever `up` started, whatever this command line says
        saved = Stack()._load().get("kafka") or {}
        args.brokers = saved.get("brokers", args.brokers)
        args.kafka_security = saved.get("security", args.kafka_security)
    stack = Stack(idp=args.idp, brokers=args.brokers, kafka_security=args.kafka_security)
    if args.action == "down":
        return stop_supervisor(stack)
    if args.action == "status":
        for name, status in stack.status().items():
            print(f"{name:20s} {status}")
        return 0
    if args.action == "up":
        return start_supervisor_in_background(stack)
    return run_supervisor(stack, announce=args.action == "run")


def run_supervisor(stack: Stack, *, announce: bool) -> int:
    """Bring everything up, keep it up (restarting what crashes), and stop it all on Ctrl-C or SIGTERM."""
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    supervisor_file = stack.var_dir / "run" / "supervisor.pid"
    try:
        stack.up()
    except BaseException as exc:  # noqa: BLE001 - whatever stops the start-up, what did start must be stopped
        print(f"start-up failed: {exc}", file=sys.stderr)
        stack.down()
        return 1
    supervisor_file.write_text(str(os.getpid()))
    if announce:
        print_welcome(stack)
        print("Press Ctrl-C to stop.")
    try:
        stack.supervise(stopping)
    finally:
        print("\nstopping ...")
        stack.down()
        supervisor_file.unlink(missing_ok=True)
    return 0


def start_supervisor_in_background(stack: Stack) -> int:
    """`make up`: the supervisor runs detached; this returns once every service answers /readyz."""
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    (stack.var_dir / "run").mkdir(parents=True, exist_ok=True)
    if _supervisor_pid(stack):
        print("Dealgate is already up (`make down` stops it).")
        print_welcome(stack)
        return 0
    with open(stack.log_dir / "supervisor.log", "ab") as log:  # the supervisor keeps its own copy of the descriptor
        supervisor = subprocess.Popen([PYTHON, "-m", "deploy.stack", "supervise",  # noqa: S603 - our own module
                                       *(["--idp", stack.idp] if stack.idp else []),
                                       "--brokers", str(len(stack.kafka.nodes)),
                                       "--kafka-security", stack.kafka.security],
                                      cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    started = time.monotonic()
    print("starting Kafka and the three services in the background ...")
    while time.monotonic() - started < (300 if stack.keycloak else 180):
        if supervisor.poll() is not None:
            print(f"start-up failed; see {stack.log_dir / 'supervisor.log'}", file=sys.stderr)
            return 1
        if _supervisor_pid(stack):
            print(f"all services ready in {time.monotonic() - started:.1f}s")
            print_welcome(stack)
            print("Running in the background; `make down` stops it.")
            return 0
        time.sleep(0.3)
    print("start-up timed out", file=sys.stderr)
    return 1


def stop_supervisor(stack: Stack) -> int:
    pid = _supervisor_pid(stack)
    if pid:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    stack.down()  # whatever is left (e.g. after a crashed supervisor) is stopped from the state file
    return 0


def _supervisor_pid(stack: Stack) -> int | None:
    try:
        pid = int((stack.var_dir / "run" / "supervisor.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


if __name__ == "__main__":
    sys.exit(main())
