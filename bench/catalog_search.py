"""Listing searches per second on a `make up`-style stack, side by side with a bare Flask constant-JSON app.

Usage: .venv/bin/python bench/catalog_search.py [--listings 10000] [--duration 15] [--connections 32]
                                                [--catalog-url URL --baseline-url URL] [--json PATH]

Without URLs it starts its own stack (SQLite + Kafka, as `make up`, on its own ports and var dir) and the
baseline under the same gunicorn settings (deploy/gunicorn.conf.py, same worker count), seeds --listings
listings through the API, then runs wrk against each in turn: the baseline, anonymous searches rotating over
a set of queries and filters, and revalidations of one search with If-None-Match (304).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from deploy.stack import Ports, Stack  # noqa: E402
from shared.auth import TokenService  # noqa: E402
from shared.config import Settings  # noqa: E402

BENCH_DIR = Path(tempfile.gettempdir()) / "dealgate-bench-catalog"
PORTS = Ports(kafka=22601, http={"catalog": 22001, "deals": 22002, "conflict": 22003},
              doorbell={"catalog": 22301, "deals": 22302, "conflict": 22303})
BASELINE_PORT = 22099
WORDS = ["secure", "cloud", "backup", "identity", "analytics", "gateway", "firewall", "endpoint", "payroll",
         "observability", "kubernetes", "registry", "warehouse", "streaming", "email", "marketing", "desk",
         "asset", "contact", "messaging", "platform", "api", "storage", "network", "compliance", "automation",
         "recovery", "mobile", "threat", "policy", "billing", "portal", "insight", "edge", "data", "sync"]
CATEGORIES = ["network-security", "endpoint-security", "erp", "hr", "devops", "observability", "analytics",
              "marketing", "itsm", "backup", "identity", "communications", "developer-tools", "email-security"]
CHANNELS = ["reseller", "distributor", "msp", "marketplace", "direct"]
REGIONS = ["NA", "EMEA", "APAC", "LATAM"]


def log(message: str) -> None:
    print(f"[catalog-bench] {message}", file=sys.stderr, flush=True)


def synthetic_listing(rng: random.Random, n: int) -> dict:
    words = rng.sample(WORDS, 3)
    return {
        "title": f"{words[0].title()} {words[1].title()} {n}", "vendor": f"Vendor {n % 97}",
        "summary": f"A {words[2]} solution for {rng.choice(WORDS)} and {rng.choice(WORDS)} teams.",
        "category": rng.choice(CATEGORIES), "tags": rng.sample(WORDS, 2),
        "offers": [{"name": "Standard", "channels": rng.sample(CHANNELS, rng.randint(1, 5)),
                    "regions": rng.sample(REGIONS, rng.randint(1, 4)),
                    "pricing": {"model": "subscription", "term_months": 12,
                                "price": {"amount": f"{rng.randint(10, 99999)}.00", "currency": "USD"}}}],
    }


def seed(catalog_url: str, admin_token: str, count: int, workers: int = 4) -> None:
    rng = random.Random(7)
    listings = [synthetic_listing(rng, n) for n in range(count)]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {admin_token}"
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=workers)
    session.mount("http://", adapter)

    def create_and_publish(listing: dict) -> None:
        created = session.post(f"{catalog_url}/v1/listings", json=listing, timeout=30)
        created.raise_for_status()
        session.post(f"{catalog_url}/v1/listings/{created.json()['id']}/publish", timeout=30).raise_for_status()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for done, _ in enumerate(pool.map(create_and_publish, listings), start=1):
            if done % 1000 == 0:
                log(f"seeded {done}/{count} listings ({done / (time.monotonic() - started):.0f}/s)")


def search_paths(count: int = 40) -> list[str]:
    rng = random.Random(11)
    paths = []
    for _ in range(count):
        params = {"q": rng.choice(WORDS), "limit": 20}
        if rng.random() < 0.5:
            params["channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.3:
            params["region"] = rng.choice(REGIONS)
        paths.append("/v1/listings?" + urllib.parse.urlencode(params))
    return paths


def uncached_search_paths(count: int = 6000) -> list[str]:
    """`count` different searches (words, filters and page sizes): more than the page cache holds (2048 pages by
    default), so walking through them in a loop misses it every time and each request runs the search."""
    rng = random.Random(13)
    paths: dict[str, None] = {}
    while len(paths) < count:
        params = {"q": " ".join(rng.sample(WORDS, k=rng.choice([1, 1, 2]))), "limit": rng.randint(5, 50)}
        if rng.random() < 0.5:
            params["channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.3:
            params["region"] = rng.choice(REGIONS)
        paths["/v1/listings?" + urllib.parse.urlencode(params)] = None
    return list(paths)


def wrk(url: str, *, duration: int, connections: int, threads: int, script: str | None = None,
        headers: dict | None = None) -> float:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"{url}: wrk printed no Requests/sec\n{output}")
    return float(rate.group(1))


def rotating_script(paths: list[str], directory: Path, name: str = "rotate.lua") -> str:
    """A wrk Lua script that walks through `paths`, one per request."""
    script = directory / name
    quoted = ", ".join(json.dumps(path) for path in paths)
    script.write_text(f"local paths = {{{quoted}}}\nlocal i = 0\n"
                      "request = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
    return str(script)


def start_baseline(stack_env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{BASELINE_PORT}", "bench.baselines:create_json_app()"]
    env = {k: v for k, v in stack_env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{BASELINE_PORT}/json", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise RuntimeError("the baseline app did not start")


def wait_until_quiet(deals_url: str, timeout_s: float = 300.0) -> None:
    """Measure only once deals has consumed every seeded listing event: otherwise that consumer competes for
    the same two cores and the figures say more about the seeding than about reads."""
    import re

    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            metrics = requests.get(deals_url + "/metrics", timeout=10).text
            lag = re.search(r'dealgate_consumer_lag\{group="[^"]*",topic="catalog.listings.v1"\} (\S+)', metrics)
            if lag and float(lag.group(1)) == 0:
                log(f"the stack is quiet after {time.monotonic() - started:.0f}s")
                return
        except requests.RequestException:
            pass
        time.sleep(2)
    log("the stack did not go quiet in time; measuring anyway")


def measure(catalog_url: str, baseline_url: str, *, duration: int, connections: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        paths = search_paths()
        script = rotating_script(paths, Path(directory))
        uncached = uncached_search_paths()
        uncached_script = rotating_script(uncached, Path(directory), "uncached.lua")
        for path in paths:  # every query answered once, as a warmed-up service would have
            requests.get(catalog_url + path, timeout=30).raise_for_status()
        probe = requests.get(catalog_url + paths[0], timeout=30)
        log(f"baseline {baseline_url} ...")
        baseline = wrk(baseline_url, duration=duration, connections=connections, threads=threads)
        log(f"searches {catalog_url}/v1/listings?q=... ({len(paths)} rotating queries) ...")
        search = wrk(catalog_url, duration=duration, connections=connections, threads=threads, script=script)
        log(f"searches that miss the page cache ({len(uncached)} different ones in a loop) ...")
        search_uncached = wrk(catalog_url, duration=duration, connections=connections, threads=threads,
                              script=uncached_script)
        log("revalidations with If-None-Match ...")
        revalidate = wrk(catalog_url + paths[0], duration=duration, connections=connections, threads=threads,
                         headers={"If-None-Match": probe.headers["ETag"]})
    return {"catalog_search_rps": round(search, 1), "catalog_304_rps": round(revalidate, 1),
            "catalog_search_uncached_rps": round(search_uncached, 1),
            "catalog_search_uncached_ratio": round(search_uncached / baseline, 3),
            "baseline_json_rps": round(baseline, 1),
            "catalog_search_ratio": round(search / baseline, 3), "catalog_304_ratio": round(revalidate / baseline, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/catalog_search.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--catalog-url", help="measure a running catalog instead of starting a stack")
    parser.add_argument("--baseline-url", help="a running baseline (bench.baselines:create_json_app) /json URL")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        log("wrk is not installed (apt-get install -y wrk)")
        return 2

    stack = baseline = None
    try:
        if args.catalog_url:
            catalog_url = args.catalog_url.rstrip("/")
            baseline_env = dict(os.environ)
        else:
            shutil.rmtree(BENCH_DIR, ignore_errors=True)
            stack = Stack(var_dir=BENCH_DIR, ports=PORTS)
            stack.up(progress=log)
            catalog_url = stack.url("catalog")
            baseline_env = stack.env()
        if args.listings:
            settings = Settings.from_env("catalog")
            log(f"seeding {args.listings} listings through the API ...")
            seed(catalog_url, TokenService(settings.jwt_secret, settings.jwt_issuer).issue("admin"), args.listings)
            if stack is not None:
                wait_until_quiet(stack.url("deals"))
        if args.baseline_url:
            baseline_url = args.baseline_url
        else:
            baseline = start_baseline(baseline_env)
            baseline_url = f"http://127.0.0.1:{BASELINE_PORT}/json"
        figures = measure(catalog_url, baseline_url, duration=args.duration, connections=args.connections,
                          threads=args.threads)
    finally:
        if baseline is not None:
            os.killpg(baseline.pid, signal.SIGTERM)
            baseline.wait(timeout=15)
        if stack is not None:
            stack.down(progress=log)
    figures["listings_seeded"] = args.listings
    print(f"{'catalog_search_rps':22s} {figures['catalog_search_rps']:>10.1f}   "
          f"{figures['catalog_search_ratio']:.2f} x baseline")
    print(f"{'catalog_304_rps':22s} {figures['catalog_304_rps']:>10.1f}   "
          f"{figures['catalog_304_ratio']:.2f} x baseline")
    print(f"{'baseline_json_rps':22s} {figures['baseline_json_rps']:>10.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
