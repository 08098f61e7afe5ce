"""Registrations per second that POST /v1/deals sustains, side by side with a bare Flask + SQLAlchemy insert.

Usage: .venv/bin/python bench/deals_submit.py [--duration 10] [--rounds 3] [--connections 16] [--threads 2]
                                              [--json PATH]

Both apps run under deploy/gunicorn.conf.py with the same worker and thread counts, on their own databases of
one local PostgreSQL, and are loaded in turn by wrk with the same body. The deals app does everything a real
submission does (token, validation, catalog read model, registration row, outbox row, doorbell) except the
per-partner request limit, which is switched off so that the load generator is not throttled. No Kafka is
needed: a submission only writes to the outbox, which the relay (not running here) would publish.

The machine is shared, so its load drifts: after a warm-up of each app, the two are measured in alternating
rounds (baseline, deals, baseline, deals, ...) and each figure is the median of its rounds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from deploy.postgres import LocalPostgres  # noqa: E402
from shared.auth import TokenService  # noqa: E402
from shared.config import Settings  # noqa: E402

BENCH_DIR = Path(tempfile.gettempdir()) / "dealgate-bench-deals"
POSTGRES_PORT = 23901
DEALS_PORT, BASELINE_PORT, DOORBELL_PORT = 23002, 23099, 23302


def log(message: str) -> None:
    print(f"[deals-bench] {message}", file=sys.stderr, flush=True)


def submission(listing_id: str) -> dict:
    return {"customer": {"name": "Bench Customer Ltd", "domain": "https://www.bench-customer.co.uk/",
                         "country": "GB", "tax_id": "GB123456789"},
            "contact": {"name": "Jo Bench", "email": "jo@bench-customer.co.uk"},
            "products": [listing_id], "amount": {"amount": "25000.00", "currency": "GBP"},
            "expected_close": (dt.date.today() + dt.timedelta(days=60)).isoformat(),
            "opportunity_name": "Bench renewal", "notes": "Load test."}


def prepare_deals_database(url: str) -> str:
    """Migrate, and put one published listing in the catalog read model (as the consumer would)."""
    from services.deals.bootstrap import MIGRATIONS
    from services.deals.storage.uow import SqlDealsUnitOfWork
    from shared.db import create_engine, upgrade_to_head

    upgrade_to_head(url, MIGRATIONS)
    listing = {"id": str(uuid.uuid4()), "title": "Bench Suite", "status": "published", "version": 1,
               "offers": [{"id": "bench-offer", "name": "Std", "visibility": "public",
                           "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                           "regions": ["NA", "EMEA", "APAC", "LATAM"]}]}
    engine = create_engine(url)
    with SqlDealsUnitOfWork(engine) as uow:
        uow.catalog.upsert(listing)
        uow.commit()
    engine.dispose()
    return str(listing["id"])


def prepare_baseline_database(url: str) -> None:
    from bench.baselines import insert_tables
    from shared.db import create_engine

    engine = create_engine(url)
    insert_tables().create_all(engine)
    engine.dispose()


def gunicorn(app_spec: str, port: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", app_spec]
    with open(BENCH_DIR / f"gunicorn-{port}.log", "ab") as log_file:  # gunicorn keeps its own copy
        return subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True, stdout=log_file,
                                stderr=subprocess.STDOUT)


def wait_for(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - an http://127.0.0.1 URL of ours
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def wrk_post(url: str, body: dict, headers: dict, *, duration: int, connections: int, threads: int,
             directory: Path) -> float:
    script = directory / f"post-{uuid.uuid4().hex[:6]}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}",
             'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url]
    log(" ".join(command))
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"{url}: wrk printed no Requests/sec\n{output}")
    return float(rate.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/deals_submit.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each app")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        log("wrk is not installed (apt-get install -y wrk)")
        return 2

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    cluster = LocalPostgres(BENCH_DIR / "postgres", port=POSTGRES_PORT)
    was_running = cluster.is_running()
    cluster.start()
    run = uuid.uuid4().hex[:6]
    names = {"deals": f"bench_deals_{run}", "baseline": f"bench_insert_{run}"}
    urls = {role: cluster.create_database(name) for role, name in names.items()}
    processes: list[subprocess.Popen] = []
    try:
        listing_id = prepare_deals_database(urls["deals"])
        prepare_baseline_database(urls["baseline"])
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        deals_env = {**env, "DEALS_DATABASE_URL": urls["deals"], "DEALS_RATE_LIMIT_PER_MINUTE": "0",
                     "DEALS_RELAY_DOORBELL_PORT": str(DOORBELL_PORT), "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                     "DEALGATE_LOG_LEVEL": "WARNING"}
        processes.append(gunicorn("services.deals.app:create_app()", DEALS_PORT, deals_env))
        processes.append(gunicorn(f"bench.baselines:create_insert_app({urls['baseline']!r})", BASELINE_PORT, env))
        wait_for(f"http://127.0.0.1:{DEALS_PORT}/healthz")
        wait_for(f"http://127.0.0.1:{BASELINE_PORT}/insert")

        settings = Settings.from_env("deals")
        token = TokenService(settings.jwt_secret, settings.jwt_issuer).issue(
            "partner", partner_id="bench-partner", ttl=dt.timedelta(hours=2))
        body = submission(listing_id)
        targets = {"baseline": (f"http://127.0.0.1:{BASELINE_PORT}/insert", {}),
                   "deals": (f"http://127.0.0.1:{DEALS_PORT}/v1/deals", {"Authorization": f"Bearer {token}"})}
        rounds: dict[str, list[float]] = {"baseline": [], "deals": []}
        with tempfile.TemporaryDirectory() as directory:
            common = dict(connections=args.connections, threads=args.threads, directory=Path(directory))
            for name, (url, headers) in targets.items():
                log(f"warming up {name} ...")
                wrk_post(url, body, headers, duration=3, **common)
            for round_number in range(1, args.rounds + 1):
                for name, (url, headers) in targets.items():
                    rounds[name].append(wrk_post(url, body, headers, duration=args.duration, **common))
                    log(f"round {round_number} {name}: {rounds[name][-1]:.1f} requests/s")
        baseline, submit = statistics.median(rounds["baseline"]), statistics.median(rounds["deals"])
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        for name in names.values():
            cluster.drop_database(name)
        if not was_running:
            cluster.stop()
    figures = {"deals_submit_rps": round(submit, 1), "baseline_insert_rps": round(baseline, 1),
               "deals_submit_ratio": round(submit / baseline, 3),
               "deals_submit_rounds_rps": [round(r, 1) for r in rounds["deals"]],
               "baseline_insert_rounds_rps": [round(r, 1) for r in rounds["baseline"]],
               "http_workers": int(os.environ.get("DEALGATE_HTTP_WORKERS", str(2 * (os.cpu_count() or 1) + 1))),
               "http_threads": int(os.environ.get("DEALGATE_HTTP_THREADS", "1"))}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
