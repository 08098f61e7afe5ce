"""What the benchmarks share: a private stack on PostgreSQL, tokens, and a steady-rate request scheduler."""
from __future__ import annotations

import contextlib
import sys
import tempfile
import time
import uuid
from pathlib import Path

from deploy.postgres import LocalPostgres
from deploy.stack import Ports, Stack
from shared.auth import TokenService
from shared.config import Settings

BENCH_DIR = Path(tempfile.gettempdir()) / "dealgate-bench"
BENCH_PORTS = Ports(kafka=21601, http={"catalog": 21001, "deals": 21002, "conflict": 21003},
                    doorbell={"catalog": 21301, "deals": 21302, "conflict": 21303})


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def postgres_stack(http_workers: int | None = None, extra_env: dict | None = None):
    """A whole Dealgate stack on PostgreSQL and its own Kafka, torn down afterwards."""
    cluster = LocalPostgres(BENCH_DIR / "postgres", port=21901)
    was_running = cluster.is_running()  # a cluster someone else started is theirs to stop
    cluster.start()
    run = uuid.uuid4().hex[:6]
    env = {f"{s.upper()}_DATABASE_URL": cluster.create_database(f"bench_{s}_{run}")
           for s in ("catalog", "deals", "conflict")}
    env.update(extra_env or {})
    stack = Stack(var_dir=BENCH_DIR / f"stack-{run}", ports=BENCH_PORTS, env=env, http_workers=http_workers)
    try:
        stack.up(progress=progress)
        yield stack
    finally:
        stack.down(progress=progress)
        for service in ("catalog", "deals", "conflict"):
            cluster.drop_database(f"bench_{service}_{run}")
        if not was_running:
            cluster.stop()


def tokens() -> TokenService:
    settings = Settings.from_env("deals")
    return TokenService(settings.jwt_secret, settings.jwt_issuer)


def bearer(role: str, **claims) -> dict[str, str]:
    return {"Authorization": "Bearer " + tokens().issue(role, ttl=__import__("datetime").timedelta(hours=6),
                                                        **claims)}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def wait_until(predicate, timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()
