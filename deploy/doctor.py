"""`make doctor`: is this machine ready for Dealgate's make targets? One line per prerequisite.

python3 -m deploy.doctor                 everything; exits 1 if something `make run` needs is missing
python3 -m deploy.doctor --for test      only what `make test` needs (or run, bench, chaos, lint, image);
                                         exits 1 if any of it is missing
python3 -m deploy.doctor --for test --brief
                                         what make run/test/bench call first: problems only, then one line

It runs on the system Python before any virtualenv exists, so it uses the standard library only (3.8 and up)
and never imports the project's own packages except deploy.kafka's cache location (standard library too).
Each line says `ok`, `missing` or `busy`, what the item is for, and for a missing one the exact command that
installs it on Debian or Ubuntu.
"""
from __future__ import annotations

import argparse
import glob
import os
import platform
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = ("run", "test", "bench", "chaos", "lint", "image")
WANTED_PYTHON = "3.11"
WANTED_JAVA = 17


@dataclass
class Check:
    name: str
    needed_for: tuple[str, ...]
    status: str = "ok"  # ok | missing | busy
    detail: str = ""
    fix: str = ""  # the command (or step) that makes it ok
    optional_note: str = ""  # e.g. "make image is not a target yet"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        targets = "make " + "/".join(self.needed_for)
        text = f"{self.status:8s} {self.name:28s} {targets:31s} {self.detail}"
        if not self.ok and self.fix:
            text += f"\n{'':8s} {'':28s} {'':31s} fix: {self.fix}"
        return text.rstrip()


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def failing(self, target: str) -> list[Check]:
        return [c for c in self.checks if not c.ok and target in c.needed_for and not c.optional_note]


# -- helpers ---------------------------------------------------------------------------------------------------

def _sudo() -> str:
    return "" if os.geteuid() == 0 else "sudo "


def _apt(*packages: str) -> str:
    return f"{_sudo()}apt-get install -y {' '.join(packages)}"


def _os_release() -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            values[key] = value.strip().strip('"')
    except OSError:
        pass
    return values


def _is_ubuntu() -> bool:
    release = _os_release()
    return "ubuntu" in (release.get("ID", "") + " " + release.get("ID_LIKE", "")).lower()


def _apt_has(package: str) -> bool:
    """Whether this machine's apt sources offer `package` (False when apt is absent or its lists are empty)."""
    if not shutil.which("apt-cache"):
        return False
    result = _run(["apt-cache", "policy", package])
    match = re.search(r"Candidate:\s*(\S+)", result)
    return match is not None and match.group(1) != "(none)"


def _run(argv: list[str], timeout: float = 20.0) -> str:
    """stdout and stderr of a fixed command of ours (never shell), or "" when it cannot run."""
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)  # noqa: S603 - fixed argv
    except (OSError, subprocess.SubprocessError):
        return ""
    return (completed.stdout or "") + (completed.stderr or "")


def _human(num_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024 or unit == "TB":
            return f"{num_bytes:.0f} {unit}" if unit in ("B", "KB") else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.1f} TB"


# -- Python ------------------------------------------------------------------------------------------------------

def find_python() -> tuple[str | None, str]:
    """The interpreter the Makefile uses: $PYTHON if given, else python3.11, else python3 if it is 3.11."""
    candidates = [os.environ["PYTHON"]] if os.environ.get("PYTHON") else ["python3.11", "python3"]
    seen = []
    for candidate in candidates:
        path = shutil.which(candidate)
        if not path:
            continue
        version = _run([path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]).strip()
        seen.append(f"{candidate} is {version or 'not runnable'}")
        if version.startswith(WANTED_PYTHON + "."):
            return path, version
    return None, "; ".join(seen) or "neither python3.11 nor python3 is on PATH"


def python_install_hint() -> str:
    if _apt_has("python3.11"):
        return _apt("python3.11", "python3.11-venv")
    if _is_ubuntu():
        return (f"{_sudo()}add-apt-repository -y ppa:deadsnakes/ppa && "
                f"{_apt('python3.11', 'python3.11-venv')}")
    # Debian 13 and later ship no 3.11; uv installs a standalone CPython into ~/.local/bin.
    return ("curl -LsSf https://astral.sh/uv/install.sh | sh && ~/.local/bin/uv python install 3.11 "
            "(then: make PYTHON=$(~/.local/bin/uv python find 3.11) ...)")


def check_python(report: Report) -> None:
    check = report.add(Check("Python 3.11 (+venv)", ("run", "test", "bench", "chaos", "lint")))
    path, detail = find_python()
    if path is None:
        check.status, check.detail, check.fix = "missing", detail, python_install_hint()
        return
    check.detail = f"{detail} at {path}"
    if not _run([path, "-c", "import ensurepip, venv; print('yes')"]).strip().endswith("yes"):
        check.status = "missing"
        check.detail = f"{path} ({detail}) has no venv/ensurepip module"
        check.fix = _apt("python3.11-venv")
        return
    venv_python = REPO / ".venv" / "bin" / "python"
    if venv_python.exists():
        venv_version = _run([str(venv_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).strip()
        if venv_version != WANTED_PYTHON:
            check.detail += f"; .venv has Python {venv_version or '(broken)'} and will be rebuilt"


# -- Java, Maven, Kafka jars -------------------------------------------------------------------------------------

def java_major(output: str) -> int | None:
    """The major version in `java -version` output: 'openjdk version "17.0.15"' -> 17, '"1.8.0_392"' -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java_install_hint() -> str:
    for package in ("openjdk-17-jre-headless", "openjdk-21-jre-headless"):
        if _apt_has(package):
            return _apt(package)
    return _apt("openjdk-17-jre-headless")


def check_java(report: Report) -> None:
    check = report.add(Check(f"Java {WANTED_JAVA}+", ("run", "test", "bench", "chaos")))
    java = shutil.which("java")
    if not java:
        check.status, check.detail = "missing", "no java on PATH (Kafka runs on the JVM)"
        check.fix = java_install_hint()
        return
    major = java_major(_run([java, "-version"]))
    if major is None or major < WANTED_JAVA:
        check.status = "missing"
        check.detail = f"{java} is Java {major or '?'}; Kafka 4 needs {WANTED_JAVA} or later"
        check.fix = java_install_hint()
        return
    check.detail = f"Java {major} at {java}"


def _kafka_cache() -> Path:
    try:
        sys.path.insert(0, str(REPO))
        from deploy.kafka import cache_dir  # standard library only

        return cache_dir()
    except ImportError:  # pragma: no cover - run from elsewhere
        return Path(os.path.expanduser("~/.cache/dealgate"))
    finally:
        sys.path.remove(str(REPO))


def check_maven(report: Report) -> None:
    check = report.add(Check("Maven (Kafka jars)", ("run", "test", "bench", "chaos")))
    cache = _kafka_cache()
    if (cache / ".complete").exists():
        check.detail = f"Kafka jars already cached in {cache / 'libs'}; Maven not needed again"
        return
    mvn = shutil.which("mvn")
    if not mvn:
        check.status = "missing"
        check.detail = f"needed once to fetch the Kafka jars from Maven Central into {cache}"
        check.fix = _apt("maven")
        return
    version = re.search(r"Apache Maven (\S+)", _run([mvn, "-v"]))
    check.detail = (f"Maven {version.group(1) if version else '?'}; the first make run/test fetches the Kafka jars "
                    f"(~45 MB) into {cache}")


def keycloak_cache() -> Path | None:
    """Where deploy/keycloak.py unpacks its distribution (None when the checkout has no Keycloak)."""
    source = REPO / "deploy" / "keycloak.py"
    if not source.exists():
        return None
    version = re.search(r'KEYCLOAK_VERSION = "([^"]+)"', source.read_text())
    return _kafka_cache().parent / f"keycloak-{version.group(1) if version else '?'}"


def check_keycloak(report: Report) -> None:
    """The identity provider of the e2e tests (and of `make up IDP=keycloak`): fetched once through Maven."""
    cache = keycloak_cache()
    if cache is None:
        return
    with_idp = os.environ.get("IDP") == "keycloak"  # make run/up IDP=keycloak start one too
    check = report.add(Check("Keycloak (IdP)", ("run", "test") if with_idp else ("test",)))
    if (cache / ".complete").exists():
        check.detail = f"distribution already cached in {cache}"
    elif shutil.which("mvn"):
        check.detail = f"the first make test fetches it through Maven (~160 MB) into {cache}"
    else:
        check.status, check.fix = "missing", _apt("maven")
        check.detail = f"Maven fetches it once (~160 MB) into {cache}"


# -- PostgreSQL, Chromium, wrk -----------------------------------------------------------------------------------

def check_postgres(report: Report) -> None:
    check = report.add(Check("PostgreSQL server", ("test", "bench", "chaos")))
    found = {}
    for name in ("initdb", "pg_ctl", "pg_isready"):
        candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
        found[name] = candidates[0] if candidates else shutil.which(name)
    missing = [name for name, path in found.items() if not path]
    if missing:
        check.status = "missing"
        check.detail = f"no {', '.join(missing)} (the tests start their own cluster; make run uses SQLite)"
        check.fix = _apt("postgresql")
        return
    version = re.search(r"(\d+)(?:\.\d+)?", _run([str(found["initdb"]), "--version"]))
    check.detail = f"PostgreSQL {version.group(0) if version else '?'} at {Path(str(found['initdb'])).parent}"
    if os.geteuid() == 0:
        # initdb refuses root, so deploy/postgres.py runs the cluster as the postgres user through runuser.
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            check.status = "missing"
            check.detail = "running as root needs the 'postgres' system user (the Debian package creates it)"
            check.fix = (f"useradd --system --home /var/lib/postgresql --shell /bin/bash postgres  "
                         f"# or {_apt('postgresql')}")
            return
        if not shutil.which("runuser"):
            check.status, check.detail, check.fix = "missing", "runuser (util-linux) is not on PATH", _apt("util-linux")


def check_chromium(report: Report) -> None:
    check = report.add(Check("Chromium", ("test",)))
    path = Path("/usr/bin/chromium")  # tests/e2e/test_desk_browser.py launches exactly this binary
    if path.exists() and os.access(path, os.X_OK):
        version = _run([str(path), "--version"], timeout=30).strip().splitlines()
        check.detail = f"{version[0] if version else 'chromium'} at {path}"
        return
    elsewhere = shutil.which("chromium") or shutil.which("chromium-browser")
    check.status = "missing"
    check.detail = "the desk browser test launches /usr/bin/chromium"
    if elsewhere:
        check.detail += f" (found {elsewhere} instead)"
        check.fix = f"{_sudo()}ln -s {elsewhere} /usr/bin/chromium"
    elif _is_ubuntu():
        # Ubuntu's chromium package is a snap; link it where the test looks.
        check.fix = f"{_sudo()}snap install chromium && {_sudo()}ln -s /snap/bin/chromium /usr/bin/chromium"
    else:
        check.fix = _apt("chromium")


def check_tool(report: Report, name: str, command: str, needed_for: tuple[str, ...], fix: str, why: str,
               version_args: tuple[str, ...] = ("--version",), optional_note: str = "") -> None:
    check = report.add(Check(name, needed_for, optional_note=optional_note))
    path = shutil.which(command)
    if path:
        output = _run([path, *version_args]).strip().splitlines()
        check.detail = f"{output[0][:60] if output else command} at {path}"
    else:
        check.status, check.detail, check.fix = "missing", why, fix
    if optional_note:
        check.detail = f"{check.detail} ({optional_note})"


def check_image_tools(report: Report) -> None:
    """podman, runc, Go and Helm build and ship the container image; only `make image` needs them."""
    has_target = bool(re.search(r"^image\s*:", (REPO / "Makefile").read_text(), re.MULTILINE)) \
        if (REPO / "Makefile").exists() else False
    note = "" if has_target else "make image is not a target yet"
    check_tool(report, "podman", "podman", ("image",), _apt("podman"), "builds and runs the container image",
               optional_note=note)
    check_tool(report, "runc", "runc", ("image",), _apt("runc"), "the OCI runtime podman uses", optional_note=note)
    check_tool(report, "Go", "go", ("image",), _apt("golang-go"), "builds the image's Go helpers",
               version_args=("version",), optional_note=note)
    helm_fix = (f"{_sudo()}snap install helm --classic" if _is_ubuntu() else
                "curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash")
    check_tool(report, "Helm", "helm", ("image",), helm_fix, "renders the deployment chart",
               version_args=("version", "--short"), optional_note=note)


# -- ports and disk ----------------------------------------------------------------------------------------------

def port_free(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_owner(port: int, udp: bool = False) -> str:
    """Which process holds a local port, from /proc (Linux; empty when it cannot be seen)."""
    inodes = set()
    for table in (("udp", "udp6") if udp else ("tcp", "tcp6")):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and int(fields[1].rsplit(":", 1)[1], 16) == port and (udp or fields[3] == "0A"):
                inodes.add(fields[9])
    targets = {f"socket:[{inode}]" for inode in inodes if inode != "0"}
    if not targets:
        return ""
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in targets:
                    cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    return f"pid {pid_dir.name}: {cmdline.strip()[:90]}"
        except OSError:
            continue
    return ""


@dataclass
class PortSpec:
    port: int
    what: str
    udp: bool = False
    reusable: str = ""  # a process whose command line contains this may hold the port: it is reused


def brokers() -> int:
    """make run/up/test/chaos BROKERS=3: a quorum of three, node i on the Kafka port + 2(i-1) (deploy/kafka.py)."""
    text = os.environ.get("BROKERS") or os.environ.get("DEALGATE_TEST_BROKERS") or "1"
    return int(text) if text.isdigit() and int(text) > 0 else 1


def kafka_ports(base: int, label: str, reusable: str = "") -> list[PortSpec]:
    return [spec for node in range(brokers()) for spec in (
        PortSpec(base + 2 * node, f"{label} Kafka" + (f" broker {node + 1}" if brokers() > 1 else ""),
                 reusable=reusable),
        PortSpec(base + 2 * node + 1, f"{label} Kafka controller" + (f" {node + 1}" if brokers() > 1 else ""),
                 reusable=reusable))]


def run_ports() -> list[PortSpec]:
    specs = [PortSpec(8001, "catalog API"), PortSpec(8002, "deals API"), PortSpec(8003, "conflict API"),
             *kafka_ports(9092, "make run", reusable="kafka.Kafka"),
             PortSpec(9301, "catalog doorbell", udp=True), PortSpec(9302, "deals doorbell", udp=True),
             PortSpec(9303, "conflict doorbell", udp=True)]
    if os.environ.get("IDP") == "keycloak":
        specs.append(PortSpec(8080, "Keycloak (IDP=keycloak)"))
    return specs


def test_ports(offset: int) -> list[PortSpec]:
    """The ports of tests/conftest.py, tests/e2e/conftest.py, tests/e2e/test_chaos.py,
    tests/integration/deploy/test_kafka_sasl_acls.py and tests/e2e/test_cluster_chaos.py (three brokers, always) at
    this offset."""
    specs = [*kafka_ports(19092 + offset, "test", reusable="kafka.Kafka"),
             PortSpec(15433 + offset, "test PostgreSQL", reusable="postgres")]
    specs += [PortSpec(19120 + offset, "secured test Kafka (ACL test)"),
              PortSpec(19121 + offset, "secured test Kafka controller")]
    specs += [PortSpec(25601 + offset + n, f"cluster-chaos Kafka {'controller ' if n % 2 else ''}{n // 2 + 1}")
              for n in range(6)]
    specs += [PortSpec(25000 + n + offset, f"cluster-chaos {service} API")
              for n, service in ((1, "catalog"), (2, "deals"), (3, "conflict"))]
    specs += [PortSpec(25300 + n + offset, "cluster-chaos doorbell", udp=True) for n in (1, 2, 3)]
    specs.append(PortSpec(25901 + offset, "cluster-chaos PostgreSQL", reusable="postgres"))
    for base, label in ((18000, "e2e"), (24000, "chaos")):
        specs += [PortSpec(base + n + offset, f"{label} {service} API")
                  for n, service in ((1, "catalog"), (2, "deals"), (3, "conflict"))]
    for base, label in ((29092, "e2e"), (24601, "chaos")):
        specs += [PortSpec(base + offset, f"{label} Kafka"), PortSpec(base + 1 + offset, f"{label} Kafka controller")]
    for base, label in ((19300, "e2e"), (24300, "chaos")):
        specs += [PortSpec(base + n + offset, f"{label} doorbell", udp=True) for n in (1, 2, 3)]
    specs.append(PortSpec(24901 + offset, "chaos PostgreSQL", reusable="postgres"))
    if keycloak_cache() is not None:
        specs.append(PortSpec(18180 + offset, "e2e Keycloak"))
    return specs


def bench_ports() -> list[PortSpec]:
    """bench/common.py, bench/catalog_search.py and bench/deals_submit.py."""
    tcp = {21001: "bench catalog API", 21002: "bench deals API", 21003: "bench conflict API",
           21601: "bench Kafka", 21602: "bench Kafka controller", 22001: "catalog-bench catalog API",
           22002: "catalog-bench deals API", 22003: "catalog-bench conflict API", 22601: "catalog-bench Kafka",
           22602: "catalog-bench Kafka controller", 22099: "catalog baseline", 23002: "deals-bench deals API",
           23099: "deals baseline"}
    specs = [PortSpec(port, what) for port, what in tcp.items()]
    specs += [PortSpec(21901, "bench PostgreSQL", reusable="postgres"),
              PortSpec(23901, "deals-bench PostgreSQL", reusable="postgres")]
    specs += [PortSpec(port, "bench doorbell", udp=True) for port in (21301, 21302, 21303)]
    specs += [PortSpec(port, "catalog-bench doorbell", udp=True) for port in (22301, 22302, 22303)]
    specs.append(PortSpec(23302, "deals-bench doorbell", udp=True))
    return specs


def chaos_ports() -> list[PortSpec]:
    """bench/chaos.py's defaults: bench/common.py's BENCH_PORTS (with BROKERS=3, three Kafka nodes from 21601) and its
    own PostgreSQL."""
    return [spec for spec in bench_ports() if spec.what.startswith("bench ") and "PostgreSQL" not in spec.what
            and "Kafka" not in spec.what] + kafka_ports(21601, "chaos") + [
        PortSpec(21902, "chaos PostgreSQL", reusable="postgres")]


def check_ports(report: Report, label: str, specs: list[PortSpec], needed_for: tuple[str, ...], hint: str) -> None:
    busy = []
    for spec in specs:
        if port_free(spec.port, socket.SOCK_DGRAM if spec.udp else socket.SOCK_STREAM):
            continue
        owner = port_owner(spec.port, spec.udp)
        if spec.reusable and (not owner or spec.reusable in owner):
            continue  # e.g. a Kafka already listening there is used as it is
        busy.append(f"{spec.port}{'/udp' if spec.udp else ''} {spec.what} ({owner or 'owner not visible'})")
    check = report.add(Check(f"ports: {label}", needed_for))
    ranges = _compact(sorted(spec.port for spec in specs))
    if busy:
        check.status = "busy"
        check.detail = "; ".join(busy[:4]) + (f"; and {len(busy) - 4} more" if len(busy) > 4 else "")
        check.fix = hint
    else:
        check.detail = f"free: {ranges}"


def _compact(ports: list[int]) -> str:
    runs: list[list[int]] = []
    for port in ports:
        if runs and port == runs[-1][-1] + 1:
            runs[-1].append(port)
        else:
            runs.append([port])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def check_disk(report: Report, path: Path, label: str, needed_gb: float, needed_for: tuple[str, ...],
               why: str) -> None:
    check = report.add(Check(f"disk: {label}", needed_for))
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    check.detail = f"{_human(free)} free at {probe} (needs {needed_gb:g} GB: {why})"
    if free < needed_gb * 1024 ** 3:
        check.status = "missing"
        check.fix = f"free {_human(needed_gb * 1024 ** 3 - free)} or more on the file system of {probe}"


def check_platform(report: Report) -> None:
    check = report.add(Check("Linux", ("run", "test", "bench", "chaos")))
    if sys.platform.startswith("linux") and Path("/proc/self/stat").exists():
        release = _os_release().get("PRETTY_NAME", "Linux")
        check.detail = f"{release}, {platform.machine()}, {os.cpu_count()} cores"
    else:
        check.status = "missing"
        check.detail = f"{platform.system()}: the process supervisor reads /proc; Linux only"
        check.fix = "use a Linux machine or VM (Debian 12 or Ubuntu 22.04/24.04)"


# -- the report --------------------------------------------------------------------------------------------------

ALL = ("run", "test", "bench", "chaos")
BENCHES = {"bench", "chaos"}


def collect(targets: set[str]) -> Report:
    report = Report()
    offset = int(os.environ.get("DEALGATE_TEST_PORT_OFFSET", "0") or 0)
    scratch = Path(os.environ.get("DEALGATE_TEST_DIR") or tempfile.gettempdir())  # where tests/conftest.py runs
    steps: list[tuple[set[str] | tuple[str, ...], Callable[[Report], None]]] = [
        ({"run", "test", "bench", "chaos"}, check_platform),
        ({"run", "test", "bench", "chaos", "lint"}, check_python),
        ({"run", "test", "bench", "chaos"}, check_java),
        ({"run", "test", "bench", "chaos"}, check_maven),
        ({"test", "run"} if os.environ.get("IDP") == "keycloak" else {"test"}, check_keycloak),
        ({"test", "bench", "chaos"}, check_postgres),
        ({"test"}, check_chromium),
        ({"bench"}, lambda r: check_tool(r, "wrk", "wrk", ("bench",), _apt("wrk"),
                                         "the HTTP load generator of the deals and catalog benchmarks",
                                         version_args=("-v",))),
        ({"image"}, check_image_tools),
        ({"run"}, lambda r: check_ports(r, "make run/up", run_ports(), ("run",),
                                        "stop what holds them (`make down` if it is Dealgate's own `make up`)")),
        ({"test"}, lambda r: check_ports(r, f"make test (offset {offset})", test_ports(offset), ("test",),
                                         "another test run holds them: wait for it, or pick another "
                                         "DEALGATE_TEST_PORT_OFFSET")),
        ({"bench"}, lambda r: check_ports(r, "make bench", bench_ports(), ("bench",),
                                          "another make bench or make chaos holds them: wait for it to end")),
        ({"chaos"}, lambda r: check_ports(r, "make chaos", chaos_ports(), ("chaos",),
                                          "another make bench or make chaos holds them: wait for it to end")),
        (ALL, lambda r: check_disk(r, REPO, "checkout", 1.0, ALL, ".venv ~0.6 GB, var/")),
        (ALL, lambda r: check_disk(r, _kafka_cache(), "cache", 1.0, ALL,
                                   "Kafka jars, Keycloak and ~/.m2 ~0.5 GB")),
        (BENCHES | {"test"}, lambda r: check_disk(r, scratch, "scratch", 1.5, ("test", "bench", "chaos"),
                                                  "the test and bench clusters")),
    ]
    for wanted_by, step in steps:
        if set(wanted_by) & targets:
            step(report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make doctor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--for", dest="target", choices=TARGETS,
                        help="check only what this make target needs, and fail if any of it is missing")
    parser.add_argument("--brief", action="store_true", help="print only the problems and one closing line")
    args = parser.parse_args(argv)
    targets = {args.target} if args.target else set(TARGETS)
    report = collect(targets)
    gate = args.target or "run"  # plain `make doctor` fails only when `make run` cannot work
    failing = report.failing(gate)
    for check in report.checks:
        if not args.brief or (not check.ok and check in failing):
            print(check.line())
    packages = [package for check in report.checks if not check.ok and not check.optional_note
                and re.fullmatch(r"(sudo )?apt-get install -y [\w.+ -]+", check.fix)
                for package in check.fix.split("install -y ", 1)[1].split()]
    if len(packages) > 1:
        print(f"\nall of these at once: {_apt(*dict.fromkeys(packages))}")
    sys.stdout.flush()  # the verdict comes last, after the lines it refers to
    if failing:
        names = ", ".join(c.name for c in failing)
        print(f"doctor: make {gate} cannot work yet: {names}. Run the fix lines above; `make doctor` checks all.",
              file=sys.stderr)
        return 1
    others = [c for c in report.checks if not c.ok and not c.optional_note]
    later = [c for c in report.checks if not c.ok and c.optional_note]
    scope = f"make {args.target} needs" if args.target else "the make targets need"
    if args.brief or not (others or later):
        print(f"doctor: everything {scope} is here")
        return 0
    lines = []
    if others:
        lines.append(f"make {gate} can work; missing for other targets: "
                     + "; ".join(f"{c.name} (make {', '.join(c.needed_for)})" for c in others))
    else:
        lines.append(f"everything {scope} today is here")
    if later:
        lines.append(f"not needed until they are used: {', '.join(c.name for c in later)} ({later[0].optional_note})")
    print("\ndoctor: " + "; ".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
