"""make compose-smoke: deploy/compose.yaml up with podman-compose on the images `make image` built, one conflict
end to end through the published ports, then everything torn down (containers, network and volumes).

python -m deploy.container.compose_smoke [--keep]    --keep leaves the stack up for a look (then: --down)

It submits two overlapping registrations (a reseller's, and the direct sales team's with a token from Keycloak) to
the deals API, sees the second go into conflict, claims and awards the case through the conflict API, and sees
both verdicts reach deals: the winner approved, the other rejected. It ends with `compose smoke: ok` and the
time it took.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
CONTAINERS_CONF = REPO / "deploy" / "container" / "containers.conf"
PROJECT = "dealgate-smoke"
PORTS = {"catalog": 28001, "deals": 28002, "conflict": 28003}
KEYCLOAK_PORT = 28080
MIGRATIONS = ("migrate-catalog", "migrate-deals", "migrate-conflict")
T = TypeVar("T")


class SmokeFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True, timeout: float = 120) -> str:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, env=podman_env(),  # noqa: S603, S607
                            timeout=timeout)
    if check and result.returncode != 0:
        raise SmokeFailed(f"podman {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def compose(env_file: Path, *args: str, timeout: float = 1800) -> None:
    command = [sys.executable, "-m", "podman_compose", "--project-name", PROJECT, "--env-file", str(env_file),
               "-f", str(COMPOSE_FILE), *args]
    log = REPO / "var" / "compose-smoke" / "podman-compose.log"
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=podman_env(),  # noqa: S603
                              timeout=timeout).returncode
    if code != 0:
        raise SmokeFailed(f"podman-compose {' '.join(args)}: exit {code} (see {log})")


def container(service: str) -> str:
    return f"{PROJECT}_{service}_1"


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = probe()
        except (OSError, ValueError, KeyError, SmokeFailed):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise SmokeFailed(f"timed out after {timeout_s:.0f}s waiting for {what}")


def http(method: str, service: str, path: str, *, token: str | None = None, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{PORTS[service]}{path}", method=method,  # noqa: S310
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own published port
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"null")
        except ValueError:
            return error.code, payload.decode(errors="replace")


def token(*args: str) -> str:
    """A token minted inside the deals API's container, with the secret the compose stack was given."""
    return podman("exec", container("deals-api"), "/app/deploy/container/entrypoint.sh", "token", *args).strip()


def migrations_done() -> bool:
    codes = {}
    for name in MIGRATIONS:
        state = json.loads(podman("inspect", "--format", "{{json .State}}", container(name)))
        if state["Status"] != "exited":
            return False
        codes[name] = state["ExitCode"]
    failed = {name: code for name, code in codes.items() if code != 0}
    if failed:
        raise RuntimeError(f"migrations failed: {failed} (podman logs {container(next(iter(failed)))})")
    return True


def ready(service: str) -> bool:
    status, body = http("GET", service, "/healthz")
    return status == 200 and body.get("detail", {}).get("kafka") == "ok" and http("GET", service, "/readyz")[0] == 200


def submit(as_token: str, key: str, customer: dict[str, str], product: str, amount: str) -> dict[str, Any]:
    body = {"customer": customer, "products": [product], "amount": {"amount": amount, "currency": "EUR"},
            "expected_close": (dt.date.today() + dt.timedelta(days=60)).isoformat()}

    def accepted() -> dict[str, Any] | None:
        status, answer = http("POST", "deals", "/v1/deals", token=as_token, body=body,
                              headers={"Idempotency-Key": key})
        if status == 422 and "products" in str(answer):
            return None  # deals has not yet read the listing's event
        if status != 201:
            raise RuntimeError(f"POST /v1/deals answered {status}: {answer}")
        return dict(answer)

    return wait_for("deals to know the listing", accepted, 60)


def verdict(deal_id: str, as_token: str, expected: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        status, deal = http("GET", "deals", f"/v1/deals/{deal_id}", token=as_token)
        return deal if status == 200 and deal["status"] == expected else None

    return wait_for(f"deal {deal_id} to be {expected}", probe, 60)


def run_scenario() -> None:
    say("seeding the demo catalog through the catalog API (inside its container) ...")
    podman("exec", container("catalog-api"), "/app/deploy/container/entrypoint.sh", "seed-catalog",
           "http://127.0.0.1:8001")
    status, listings = http("GET", "catalog", "/v1/listings?q=analytics")
    if status != 200 or not listings["items"]:
        raise SmokeFailed(f"no analytics listing in the catalog: {status} {listings}")
    product = listings["items"][0]["id"]
    reseller = token("--role", "partner", "--partner-id", "acme-reseller")
    # The direct sales team's token comes from Keycloak (client credentials of dealgate-sales), so the deals API
    # checks it against the issuer's keys: the compose stack's OpenID Connect works end to end.
    sales = wait_for("a token from Keycloak", lambda: token("--role", "sales", "--idp"), 600)
    say("sales token from Keycloak (OpenID Connect), partner and desk tokens signed with the env file's secret")
    desk = token("--role", "desk")
    run = secrets.token_hex(3)
    domain = f"nordljus-{run}.se"

    first = submit(reseller, f"smoke-{run}-1", {"name": f"Nordljus Fastigheter {run} AB", "domain": domain,
                                                "country": "SE"}, product, "25000.00")
    say(f"reseller's registration {first['id']}: {first['status']}")
    verdict(first["id"], reseller, "approved")
    second = submit(sales, f"smoke-{run}-2", {"name": f"NORDLJUS FASTIGHETER {run}",
                                              "domain": f"https://www.{domain}/", "country": "SE"},
                    product, "30000.00")
    in_conflict = verdict(second["id"], sales, "in_conflict")
    case_ref = in_conflict["case_ref"]
    say(f"direct sales' registration {second['id']}: in_conflict, case {case_ref}")

    status, case = http("GET", "conflict", f"/v1/cases/{case_ref}", token=desk)
    if status != 200 or {r["deal_id"] for r in case["registrations"]} != {first["id"], second["id"]}:
        raise SmokeFailed(f"case {case_ref} does not hold both registrations: {status} {case}")
    status, claimed = http("POST", "conflict", f"/v1/cases/{case['id']}/claim", token=desk)
    if status != 200:
        raise SmokeFailed(f"claim answered {status}: {claimed}")
    status, resolved = http("POST", "conflict", f"/v1/cases/{case['id']}/resolve", token=desk,
                            body={"decision": "award", "winner": first["id"], "note": "compose smoke"})
    if status != 200:
        raise SmokeFailed(f"resolve answered {status}: {resolved}")
    say(f"desk awarded case {case_ref} to the reseller")
    winner = verdict(first["id"], reseller, "approved")
    loser = verdict(second["id"], sales, "rejected")
    if winner.get("case_ref") not in (None, case_ref):
        raise SmokeFailed(f"the winner names another case: {winner}")
    say(f"verdicts back in deals: {first['id']} approved, {second['id']} rejected ({loser.get('reason')})")


def workers_ready(processes: list[str]) -> None:
    """Each worker's own probes (shared/worker_health.py): the image's HEALTHCHECK command (its /healthz), and
    /readyz, which says its last pass succeeded, asked inside its container as an orchestrator's probe would."""
    workers = [name for name in processes if name not in {f"{service}-api" for service in PORTS}]
    readiness = ("import json, os, urllib.request; print(json.load(urllib.request.urlopen("
                 "f\"http://127.0.0.1:{os.environ['DEALGATE_WORKER_HEALTH_PORT']}/readyz\", timeout=4))['passes'])")
    passes = {}
    for name in workers:
        podman("exec", container(name), "/app/deploy/container/entrypoint.sh", "healthcheck")
        passes[name] = wait_for(f"{name} /readyz", lambda name=name: podman(  # type: ignore[misc]
            "exec", container(name), "python", "-c", readiness, check=False).strip() or None, 60)
    say(f"{len(workers)} workers healthy and ready (passes of their main loops: "
        + ", ".join(f"{name} {count}" for name, count in passes.items()) + ")")


def services_by_kind() -> tuple[list[str], list[str], list[str]]:
    """compose.yaml's services: Kafka, PostgreSQL and Keycloak; the migrations; the APIs and workers."""
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    migrations = [name for name, spec in services.items() if (spec.get("command") or [""])[0] == "migrate"]
    if sorted(migrations) != sorted(MIGRATIONS):
        raise SmokeFailed(f"{COMPOSE_FILE.name} has migrations {migrations}, not {list(MIGRATIONS)}")
    processes = [name for name, spec in services.items()
                 if "DEALGATE_IMAGE" in str(spec.get("image")) and name not in migrations]
    infrastructure = [name for name in services if name not in migrations and name not in processes]
    return infrastructure, migrations, processes


def check_images() -> None:
    for variable, default in (("DEALGATE_IMAGE", None), ("KAFKA_IMAGE", "localhost/dealgate-kafka:4.3.1"),
                              ("POSTGRES_IMAGE", "localhost/dealgate-postgres:15"),
                              ("KEYCLOAK_IMAGE", "localhost/dealgate-keycloak:26.4.7")):
        image = os.environ.get(variable) or default
        if image and subprocess.run(["podman", "image", "exists", image], env=podman_env(),  # noqa: S603, S607
                                    check=False).returncode != 0:
            raise SmokeFailed(f"image {image} is missing: run `make image` first")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.container.compose_smoke", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    parser.add_argument("--down", action="store_true", help="only tear down a stack left by --keep")
    args = parser.parse_args(argv)
    work = REPO / "var" / "compose-smoke"
    work.mkdir(parents=True, exist_ok=True)
    env_file = work / "dealgate.env"
    if args.down:
        compose(env_file, "down", "-v")
        return 0
    started = time.monotonic()
    # The smoke's own secrets, in the env file the README has operators create (deploy/dealgate.env.example).
    env_file.write_text(f"POSTGRES_PASSWORD={secrets.token_urlsafe(18)}\n"
                        f"DEALGATE_JWT_SECRET={secrets.token_urlsafe(48)}\n"
                        f"KEYCLOAK_ADMIN_PASSWORD={secrets.token_urlsafe(18)}\n")
    env_file.chmod(0o600)
    outcome = 1
    try:
        check_images()
        compose(env_file, "down", "-v")  # what an interrupted run may have left
        say(f"podman-compose up: {COMPOSE_FILE.relative_to(REPO)} as project {PROJECT} ...")
        # In two steps, each without podman's --requires: podman 4.3 starts a container's required containers
        # again whenever it starts it, so every API and worker would rerun the three migrations first.
        infrastructure, migrations, processes = services_by_kind()
        compose(env_file, "up", "-d", "--no-deps", *infrastructure, *migrations)
        wait_for("the three migrations", migrations_done, 600)
        say(f"migrations done at {time.monotonic() - started:.1f}s")
        compose(env_file, "up", "-d", "--no-deps", *processes)
        for service in PORTS:
            wait_for(f"{service} /readyz and Kafka", lambda service=service: ready(service), 900)  # type: ignore[misc]
        startup_s = time.monotonic() - started
        say(f"all three APIs ready with Kafka in {startup_s:.1f}s (from podman-compose up)")
        running = podman("ps", "--filter", f"label=io.podman.compose.project={PROJECT}", "--format",
                         "{{.Names}} {{.Status}}").strip().splitlines()
        say(f"{len(running)} containers running: " + ", ".join(line.split()[0].removeprefix(PROJECT + "_")
                                                             for line in running))
        run_scenario()
        workers_ready(processes)
        outcome = 0
    except (SmokeFailed, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"compose smoke FAILED: {exc}", file=sys.stderr)
        for service in ("deals-api", "deals-consume", "conflict-consume", "deals-relay", "conflict-relay"):
            logs = subprocess.run(["podman", "logs", "--tail", "15", container(service)],  # noqa: S603, S607
                                  capture_output=True, text=True, env=podman_env()).stdout
            print(f"--- podman logs --tail 15 {container(service)}\n{logs}", file=sys.stderr)
    finally:
        if not args.keep:
            say("podman-compose down -v ...")
            compose(env_file, "down", "-v")
            left = podman("ps", "-a", "--filter", f"label=io.podman.compose.project={PROJECT}", "-q").split()
            volumes = [v for v in podman("volume", "ls", "-q").split() if v.startswith(PROJECT)]
            if left or volumes:
                print(f"compose smoke: left behind {left} {volumes}", file=sys.stderr)
                outcome = 1
    if outcome == 0:
        print(f"compose smoke: ok in {time.monotonic() - started:.1f}s (start-up {startup_s:.1f}s)")
    return outcome


if __name__ == "__main__":
    sys.exit(main())
