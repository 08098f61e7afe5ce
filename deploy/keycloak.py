"""A local Keycloak in dev mode, the identity provider of `make up IDP=keycloak` and of the e2e suite.

The distribution comes from Maven Central once (through Maven, like Kafka's jars) into ~/.cache/dealgate; each
instance gets a small home of its own (its conf, data and imported realm; the jars are linked from the cache),
so several can run side by side. The realm, deploy/keycloak/realm-dealgate.json, is imported at every start.

python -m deploy.keycloak fetch|start|stop|status
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from deploy.kafka import DOWNLOADED, _size_bytes, port_open

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KEYCLOAK_VERSION = "26.4.7"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
REALM = "dealgate"
REALM_FILE = HERE / "keycloak" / "realm-dealgate.json"
DESK_CLIENT_ID = "dealgate-desk"
DESK_USER = ("desk", "desk-dev-password")
PORTAL_CLIENT_ID = "dealgate-portal"
PORTAL_USER = ("acme-partner", "partner-dev-password")  # a partner person of acme (group partner-acme)
# "Progress (1): 42/159 MB" as Maven (not in batch mode) reports a download in flight
PROGRESS = re.compile(r"Progress \(\d+\): (?P<done>[\d.,]+)/(?P<total>[\d.,]+) (?P<unit>[kMG]?B)")


def cache_dir() -> Path:
    base = os.environ.get("DEALGATE_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                           os.path.expanduser("~/.cache"), "dealgate")
    return Path(base) / f"keycloak-{KEYCLOAK_VERSION}"


def _local_repository() -> Path:
    """Where Maven keeps what it resolved: ~/.m2/repository unless settings.xml says otherwise."""
    settings = Path.home() / ".m2" / "settings.xml"
    with contextlib.suppress(OSError):
        found = re.search(r"<localRepository>\s*([^<]+?)\s*</localRepository>", settings.read_text())
        if found:
            return Path(os.path.expanduser(found.group(1)))
    return Path.home() / ".m2" / "repository"


def fetch(quiet: bool = False) -> Path:
    """The unpacked distribution, fetched with Maven and unpacked once; later calls reuse the cache."""
    home = cache_dir() / f"keycloak-{KEYCLOAK_VERSION}"
    marker = cache_dir() / ".complete"
    if marker.exists():
        return home

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    repository = _local_repository()
    archive = (repository / "org" / "keycloak" / "keycloak-quarkus-dist" / KEYCLOAK_VERSION
               / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip")
    if not archive.exists():
        _maven_get(say, repository)
    if not archive.exists():
        raise RuntimeError(f"Maven reported success but {archive} is not there; is localRepository moved?")
    say(f"unpacking Keycloak {KEYCLOAK_VERSION} into {cache_dir()} ...")
    staging = cache_dir() / "unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(staging)
    for script in (staging / f"keycloak-{KEYCLOAK_VERSION}" / "bin").glob("*.sh"):
        script.chmod(0o755)
    shutil.rmtree(home, ignore_errors=True)
    (staging / f"keycloak-{KEYCLOAK_VERSION}").rename(home)
    staging.rmdir()
    marker.write_text(KEYCLOAK_VERSION)
    say(f"Keycloak ready in {home}")
    return home


def _maven_get(say: Any, repository: Path) -> None:
    """`mvn dependency:get` for the distribution zip (~160 MB), its progress condensed to a line every 2 s."""
    if not shutil.which("mvn"):
        raise RuntimeError("Maven (mvn) is needed once to fetch Keycloak; install it (apt-get install maven).")
    say(f"fetching Keycloak {KEYCLOAK_VERSION} (~160 MB, plus Maven's own plugins on a first run) from Maven Central "
        "...")
    started = time.monotonic()
    # Not in batch mode: only then does Maven report a download in flight ("Progress (1): 42/159 MB").
    # The local repository named explicitly: Java's user.home need not be $HOME, and the zip is read from there.
    command = ["mvn", "-Dstyle.color=never", f"-Dmaven.repo.local={repository}", "dependency:get",
               f"-Dartifact={ARTIFACT}", "-Dtransitive=false"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # noqa: S603 - fixed argv
                               stdin=subprocess.DEVNULL, bufsize=0)
    transcript: list[str] = []
    shown_at = 0.0
    files = 0
    total = 0.0
    pending = b""
    for chunk in iter(lambda: os.read(process.stdout.fileno(), 65536) if process.stdout else b"", b""):
        pending += chunk
        *lines, pending = re.split(rb"[\r\n]", pending)
        for raw in lines:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            progress = PROGRESS.search(line)
            downloaded = DOWNLOADED.match(line)
            if downloaded:
                files += 1
                total += _size_bytes(downloaded.group("size"), downloaded.group("unit"))
            elif not progress:
                transcript.append(line)
            if time.monotonic() - shown_at >= 2.0 and (progress or downloaded):
                shown_at = time.monotonic()
                what = (f"{progress.group('done')}/{progress.group('total')} {progress.group('unit')} of the current "
                        "file" if progress else downloaded.group("url").rsplit("/", 1)[-1] if downloaded else "")
                say(f"  [{shown_at - started:4.0f}s] {files:4d} files, {total / 1e6:5.1f} MB done; {what}")
            if line.startswith("[ERROR]"):
                say("  " + line)
    if process.wait() != 0:
        say("\n".join(transcript[-60:]))
        raise RuntimeError(f"Maven could not fetch Keycloak (exit {process.returncode}); its output is above. "
                           "Is Maven Central (https://repo.maven.apache.org) reachable from here?")
    say(f"Keycloak fetched in {time.monotonic() - started:.0f}s")


def realm(desk_urls: tuple[str, ...] = (), portal_urls: tuple[str, ...] = ()) -> dict[str, Any]:
    """The realm file, with the desk's and the partner portal's redirect URIs set to where they really are."""
    document: dict[str, Any] = json.loads(REALM_FILE.read_text())
    for client_id, urls in ((DESK_CLIENT_ID, desk_urls), (PORTAL_CLIENT_ID, portal_urls)):
        for client in document["clients"]:
            if urls and client["clientId"] == client_id:
                client["redirectUris"] = list(urls)
    return document


def client_secret(client_id: str) -> str | None:
    """The development secret of one of the realm file's confidential clients."""
    for client in json.loads(REALM_FILE.read_text())["clients"]:
        if client["clientId"] == client_id:
            secret = client.get("secret")
            return secret if isinstance(secret, str) else None
    return None


class Keycloak:
    """One Keycloak in dev mode on 127.0.0.1:`port`; `data_dir` is its own home (conf, data, realm, log)."""

    def __init__(self, data_dir: Path, *, port: int = 8080, desk_urls: tuple[str, ...] = (),
                 portal_urls: tuple[str, ...] = (), heap: str = "512m"):
        self.data_dir = Path(data_dir)
        self.port = port
        self.desk_urls = desk_urls
        self.portal_urls = portal_urls
        self.heap = heap
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "keycloak.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "keycloak.pid"

    def prepare(self) -> Path:
        """A home of its own: bin/ and conf/ copied (kc.sh finds its home from where it lies), the jars and themes
        linked from the cache, and a fresh data/ with the realm to import. lib/quarkus is copied too: dev mode
        rebuilds it on its first start, and two instances must not rebuild one copy at once."""
        dist = fetch()
        home = self.data_dir / "home"
        if (home / "lib").is_symlink():  # a home laid out before lib/quarkus was its own
            (home / "lib").unlink()
        for name in ("bin", "conf", "lib/quarkus"):
            if not (home / name).exists():
                shutil.copytree(dist / name, home / name, symlinks=True)
        for name in ("themes", "providers", *(f"lib/{entry.name}" for entry in (dist / "lib").iterdir())):
            link = home / name
            if not link.exists() and not link.is_symlink():
                link.symlink_to(dist / name, target_is_directory=(dist / name).is_dir())
        # Dev mode keeps its H2 database under data/: starting afresh re-imports the realm as the file has it.
        shutil.rmtree(home / "data", ignore_errors=True)
        (home / "data" / "import").mkdir(parents=True)
        realm_document = realm(self.desk_urls, self.portal_urls)
        (home / "data" / "import" / "realm-dealgate.json").write_text(json.dumps(realm_document, indent=1))
        return home

    def start(self, wait_s: float = 180.0) -> Keycloak:
        self.spawn()
        self.wait_ready(wait_s)
        return self

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start it without waiting (see wait_ready): its 20-40 s of start-up can overlap other work."""
        if not shutil.which("java"):
            raise RuntimeError("Java 17 or later is needed to run Keycloak; install it "
                               "(apt-get install openjdk-17-jre-headless); `make doctor` checks it.")
        home = self.prepare()
        env = dict(os.environ)
        env.update({
            "JAVA_OPTS_KC_HEAP": f"-Xms128m -Xmx{self.heap}",
            # C1 only: most of a dev start-up is class loading and one-off code, which C2 would compile in vain.
            "JAVA_OPTS_APPEND": "-XX:TieredStopAtLevel=1",
            "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",  # the admin console at <url>/admin, for development
            "KC_BOOTSTRAP_ADMIN_PASSWORD": "admin",  # noqa: S105 - a dev-mode instance on loopback
        })
        command = [str(home / "bin" / "kc.sh"), "start-dev", f"--http-port={self.port}", "--http-host=127.0.0.1",
                   "--hostname-strict=false", "--import-realm", "--log-level=WARN,org.keycloak.exportimport:INFO"]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "wb") as log:  # the JVM keeps its own copy of the descriptor; a fresh log a start
            self.process = subprocess.Popen(command, env=env, cwd=home, stdout=log,  # noqa: S603 - our argv
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self.pid_file.write_text(str(self.process.pid))
        return self.process

    def ready(self) -> bool:
        try:
            url = f"{self.issuer}/.well-known/openid-configuration"  # http://127.0.0.1:<port>, of our own making
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - see above
                return bool(response.status == 200)
        except OSError:
            return False

    def wait_ready(self, wait_s: float = 180.0) -> None:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Keycloak exited with {self.process.returncode}; see {self.log_file}")
            if self.ready():
                return
            time.sleep(0.5)
        raise TimeoutError(f"Keycloak did not answer on {self.issuer} within {wait_s:.0f}s; see {self.log_file}")

    def stop(self, timeout_s: float = 30.0) -> None:
        pid = self.process.pid if self.process else _read_pid(self.pid_file)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid, self.process):
            time.sleep(0.1)
        if _alive(pid, self.process):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        if self.process:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        self.process = None
        self.pid_file.unlink(missing_ok=True)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int, process: subprocess.Popen[bytes] | None) -> bool:
    if process is not None:
        return process.poll() is None
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.keycloak")
    parser.add_argument("action", choices=("fetch", "start", "stop", "status"))
    parser.add_argument("--data-dir", default=str(REPO / "var" / "keycloak"))
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    keycloak = Keycloak(Path(args.data_dir), port=args.port, desk_urls=("http://127.0.0.1:8003/desk",),
                        portal_urls=("http://127.0.0.1:8002/portal",))
    if args.action == "fetch":
        print(fetch())
    elif args.action == "start":
        if port_open("127.0.0.1", args.port):
            print(f"something already answers on 127.0.0.1:{args.port}")
        else:
            keycloak.start()
            print(f"Keycloak {KEYCLOAK_VERSION} ready: issuer {keycloak.issuer} (log {keycloak.log_file})")
    elif args.action == "stop":
        keycloak.stop()
    else:
        print("up" if keycloak.ready() else "down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
