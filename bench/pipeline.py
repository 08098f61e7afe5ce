"""The verdict pipeline under load: capacity ramp, latency at half capacity, bulk drain (one stack, one run).

    python -m bench.pipeline [--start 5] [--step-s 20] [--factor 1.25] [--drain 100000] [--gather-ms MS] [--json PATH]

Every figure is read from deals' own database: a registration's `submitted_at` (set just before the 201) and the
time of its first history entry after "submitted" (written when deals applied the verdict), so the load
generator's clock and its polling cost nothing to the pipeline. About one in five registrations names a customer
registered before, from another partner, so both verdict kinds (cleared, and a case) are in the mix.

- Ramp: the submission rate steps up by `--factor` every `--step-s` seconds. A step passes when its
  registrations' verdict p99 is at most 500 ms and the backlog (registrations accepted but not yet judged) did
  not grow over the step. `pipeline_capacity_rps` is the highest passing rate below the first failing one
  (one failure may be noise: the same rate runs again once every stage has drained; after the second failure
  one last step runs halfway, geometrically, between the last passing rate and the failing one).
- Half capacity: 60 s at pipeline_capacity_rps / 2: `verdict_p50_ms`, `verdict_p99_ms`.
- Drain: the conflict and deals consumers are stopped, `--drain` registrations are accepted as fast as the API
  takes them (deals' relay publishes them meanwhile), then the consumers start again: `drain_rps` is the
  registrations judged per second from their start until the last verdict.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from bench.common import bearer, percentile, postgres_stack, progress, wait_until

P99_LIMIT_MS = 500.0


class Submitter:
    """POSTs registrations on keep-alive connections (http.client: a light client, the machine is shared)."""

    def __init__(self, stack, *, overlap_share: float = 0.2, partners: int = 8):
        self._stack = stack
        self._deals = urlsplit(stack.url("deals"))
        self._overlap_share = overlap_share
        self._partner_headers = [bearer("partner", partner_id=f"bench-partner-{i}") for i in range(partners)]
        self._customers: list[dict] = []
        self._rng = random.Random(7)
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._refused = 0
        self._local = threading.local()
        self.listing_id = ""
        self._close = (dt.date.today() + dt.timedelta(days=60)).isoformat()
        self.engine = sa.create_engine(stack.extra_env["DEALS_DATABASE_URL"], pool_size=2)

    def prepare(self) -> None:
        """A listing, then one registration whose verdict says the consumers joined their groups."""
        admin = bearer("admin")
        catalog = self._stack.url("catalog")
        listing = requests.post(catalog + "/v1/listings", headers=admin, json={
            "title": "Latency Suite", "summary": "bench", "vendor": "Dealgate", "category": "bench", "tags": [],
            "offers": [{"name": "Std", "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                        "regions": ["NA", "EMEA", "APAC", "LATAM"],
                        "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]},
            timeout=30).json()
        requests.post(catalog + f"/v1/listings/{listing['id']}/publish", headers=admin, timeout=30).raise_for_status()
        self.listing_id = listing["id"]
        wait_until(lambda: self.submit(0) is not None, 30, interval_s=0.2)  # the listing reached deals' read model
        progress("waiting for the probe's verdict (consumers joined and caught up) ...")
        if not wait_until(lambda: self.backlog(self.take_ids()) == 0, 90, interval_s=0.2):
            raise RuntimeError("the probe registration got no verdict within 90 s")

    def _body(self) -> bytes:
        with self._lock:
            if self._customers and self._rng.random() < self._overlap_share:
                customer = self._rng.choice(self._customers)  # the same customer again, from another partner
            else:
                tag = uuid.uuid4().hex[:10]
                customer = {"name": f"Bench Customer {tag} GmbH", "domain": f"bench-{tag}.de", "country": "DE"}
                self._customers.append(customer)
        return json.dumps({"customer": customer, "products": [self.listing_id],
                           "amount": {"amount": "5000.00", "currency": "EUR"},
                           "expected_close": self._close}).encode()

    def submit(self, index: int) -> str | None:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._deals.hostname, self._deals.port, timeout=30)
            self._local.connection = connection
        headers = {**self._partner_headers[index % len(self._partner_headers)], "Content-Type": "application/json"}
        try:
            connection.request("POST", "/v1/deals", body=self._body(), headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self._local.connection = None
            with self._lock:
                self._refused += 1
            return None
        if response.status != 201:
            with self._lock:
                self._refused += 1
            return None
        deal_id = json.loads(payload)["id"]
        with self._lock:
            self._ids.append(deal_id)
        return str(deal_id)

    def take_ids(self) -> list[str]:
        with self._lock:
            ids, self._ids = self._ids, []
        return ids

    def take_refused(self) -> int:
        with self._lock:
            refused, self._refused = self._refused, 0
        return refused

    def run_at(self, rate: float, seconds: float, *, every_s: float = 0.0,
               sample: Callable[[], None] | None = None) -> None:
        """Submit at `rate` per second for `seconds` on a steady schedule; `sample()` every `every_s` seconds."""
        total = int(rate * seconds)
        work: queue.Queue[int | None] = queue.Queue()
        workers = [threading.Thread(target=self._work, args=(work,), daemon=True) for _ in range(24)]
        for worker in workers:
            worker.start()
        started = time.monotonic()
        next_sample = started + every_s if sample and every_s else float("inf")
        for index in range(total):
            due = started + index / rate
            while (now := time.monotonic()) < due:
                if now >= next_sample:
                    sample()  # type: ignore[misc]  # next_sample is finite only with a sample
                    next_sample += every_s
                    continue
                time.sleep(min(due, next_sample) - now)
            work.put(index)
        for _ in workers:
            work.put(None)
        for worker in workers:
            worker.join()

    def run_flat_out(self, count: int, *, threads: int = 16) -> float:
        """Submit `count` registrations as fast as the API takes them; returns the rate achieved."""
        work: queue.Queue[int | None] = queue.Queue()
        for index in range(count):
            work.put(index)
        workers = [threading.Thread(target=self._work, args=(work,), daemon=True) for _ in range(threads)]
        started = time.monotonic()
        for worker in workers:
            work.put(None)
            worker.start()
        last = time.monotonic()
        while any(worker.is_alive() for worker in workers):
            time.sleep(0.5)
            if time.monotonic() - last > 15:
                last = time.monotonic()
                progress(f"  {count - work.qsize():,}/{count:,} sent")
        return count / (time.monotonic() - started)

    def _work(self, work: queue.Queue[int | None]) -> None:
        while (index := work.get()) is not None:
            self.submit(index)

    # -- reading verdicts from deals' database ------------------------------------------------------------

    def backlog(self, ids: list[str] | None = None) -> int:
        """Registrations accepted but not judged yet (all of them, or of `ids`)."""
        with self.engine.connect() as connection:
            if ids is None:
                return int(connection.execute(sa.text(
                    "SELECT count(*) FROM registrations WHERE status = 'submitted'")).scalar_one())
            return int(connection.execute(sa.text(
                "SELECT count(*) FROM registrations WHERE status = 'submitted' AND id = ANY(:ids)"),
                {"ids": ids}).scalar_one())

    def unpublished(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one())

    def verdict_times(self, ids: list[str]) -> dict[str, tuple[dt.datetime, dt.datetime | None]]:
        """(submitted at, verdict applied at or None) of each registration."""
        query = sa.text(
            "SELECT id, submitted_at, (SELECT min((h->>'at')::timestamptz)"
            " FROM json_array_elements(document->'history') AS h WHERE h->>'status' <> 'submitted') AS judged_at"
            " FROM registrations WHERE id = ANY(:ids)")
        with self.engine.connect() as connection:
            return {row.id: (row.submitted_at, row.judged_at) for row in connection.execute(query, {"ids": ids})}

    def latencies(self, ids: list[str], *, grace_s: float = 30.0) -> tuple[list[float], int]:
        """Verdict latencies (ms) of `ids`, waiting up to `grace_s` for the last ones; and how many got none."""
        wait_until(lambda: self.backlog(ids) == 0, grace_s, interval_s=0.25)
        times = self.verdict_times(ids)
        judged = [(judged - submitted).total_seconds() * 1000 for submitted, judged in times.values() if judged]
        return judged, len(ids) - len(judged)

    def close(self) -> None:
        self.engine.dispose()


def ramp(submitter: Submitter, *, start: float, factor: float, step_s: float, limit: float) -> dict:
    steps: list[dict] = []
    capacity = 0.0
    failures = 0
    rate = start
    refining = False
    while rate <= limit:
        samples: list[tuple[float, int]] = []
        step_started = time.monotonic()

        def sample(started: float = step_started, into: list = samples) -> None:
            into.append((round(time.monotonic() - started, 2), submitter.backlog()))

        progress(f"ramp: {rate:.0f}/s for {step_s:.0f}s ...")
        submitter.run_at(rate, step_s, every_s=1.0, sample=sample)
        sample()
        ids = submitter.take_ids()
        refused = submitter.take_refused()
        latencies, missing = submitter.latencies(ids, grace_s=30)
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        if missing:
            p99 = float("inf")
        growth = _backlog_growth(samples)
        passed = p99 <= P99_LIMIT_MS and growth <= max(2.0, 0.05 * rate) and refused == 0
        steps.append({"rate": round(rate, 1), "submitted": len(ids), "refused": refused,
                      "p50_ms": round(p50, 1), "p99_ms": round(p99, 1) if p99 != float("inf") else None,
                      "missing": missing, "backlog_growth_per_s": round(growth, 2),
                      "backlog_end": samples[-1][1] if samples else None, "backlog": samples, "passed": passed})
        progress(f"  {rate:.0f}/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms, backlog {growth:+.1f}/s, "
                 f"{'passed' if passed else 'FAILED'}")
        if refining:  # the one step between the last pass and the failures: the ramp ends with it
            capacity = max(capacity, rate) if passed else capacity
            break
        if passed:
            capacity = max(capacity, rate)
        else:
            failures += 1
            settle(submitter)  # the next step starts from a clean slate, not the failed step's backlog
            if failures >= 2:
                if not capacity:
                    break
                # Once more halfway (geometrically) between the last passing rate and the failing one, so the
                # figure is not a whole factor below what the pipeline holds.
                refining, rate = True, (capacity * rate) ** 0.5
                continue
            continue  # once more at the same rate: one failing step may be the neighbours' load
        rate *= factor
    return {"pipeline_capacity_rps": round(capacity, 1), "pipeline_ramp": steps,
            "pipeline_ramp_step_s": step_s}


def _backlog_growth(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope (registrations per second) of the backlog over the second half of a step."""
    half = samples[len(samples) // 2:]
    if len(half) < 3:
        return 0.0
    mean_t = sum(t for t, _ in half) / len(half)
    mean_b = sum(b for _, b in half) / len(half)
    spread = sum((t - mean_t) ** 2 for t, _ in half)
    return sum((t - mean_t) * (b - mean_b) for t, b in half) / spread if spread else 0.0


def settle(submitter: Submitter, *, timeout_s: float = 300) -> None:
    """Wait until every registration is judged and deals' outbox is published, then a few seconds more: a
    failed ramp step leaves work in every stage (relays, consumers, webhooks), which would otherwise count
    against the next measurement."""
    progress("settling: waiting for every stage's backlog to drain ...")
    if not wait_until(lambda: submitter.backlog() == 0 and submitter.unpublished() == 0, timeout_s, interval_s=0.5):
        raise RuntimeError(f"the pipeline did not drain within {timeout_s:.0f} s ({submitter.backlog():,} "
                           f"registrations unjudged, {submitter.unpublished():,} events unpublished)")
    time.sleep(5)


def steady(submitter: Submitter, *, rate: float, seconds: float) -> dict:
    progress(f"steady: {rate:.0f}/s for {seconds:.0f}s ...")
    submitter.run_at(rate, seconds)
    ids = submitter.take_ids()
    latencies, missing = submitter.latencies(ids, grace_s=60)
    return {"verdict_p50_ms": round(percentile(latencies, 0.5), 1),
            "verdict_p99_ms": round(percentile(latencies, 0.99), 1),
            "verdict_max_ms": round(max(latencies), 1) if latencies else None,
            "verdict_count": len(latencies), "verdict_missing": missing, "verdict_rate_per_s": round(rate, 1),
            "verdict_latencies_ms": latencies}


def drain(stack, submitter: Submitter, *, count: int) -> dict:
    progress("drain: stopping the conflict and deals consumers ...")
    for name in ("conflict-consume", "deals-consume"):
        stack.kill(name, __import__("signal").SIGTERM)
    progress(f"drain: submitting {count:,} registrations as fast as the API takes them ...")
    submit_rps = submitter.run_flat_out(count)
    ids = submitter.take_ids()
    progress(f"drain: {len(ids):,} accepted at {submit_rps:.0f}/s; waiting for deals' relay to publish them ...")
    wait_until(lambda: submitter.unpublished() == 0, 600, interval_s=0.5)
    backlog = submitter.backlog()
    progress(f"drain: starting the consumers with {backlog:,} registrations waiting ...")
    started = time.monotonic()
    stack.start_worker("conflict", "consume")
    stack.start_worker("deals", "consume")
    last_report = started
    while submitter.backlog() > 0:
        if time.monotonic() - started > 1800:
            raise RuntimeError(f"the backlog did not drain in 30 minutes ({submitter.backlog():,} left)")
        time.sleep(0.5)
        if time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            left = submitter.backlog()
            progress(f"  {backlog - left:,}/{backlog:,} judged in {last_report - started:.0f}s")
    elapsed = time.monotonic() - started
    return {"drain_rps": round(backlog / elapsed, 1), "drain_count": backlog, "drain_s": round(elapsed, 1),
            "drain_submit_rps": round(submit_rps, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=float, default=5)
    parser.add_argument("--factor", type=float, default=1.25)
    parser.add_argument("--step-s", type=float, default=20)
    parser.add_argument("--limit", type=float, default=600)
    parser.add_argument("--steady-s", type=float, default=60)
    parser.add_argument("--drain", type=int, default=100_000)
    parser.add_argument("--gather-ms", type=float, help="DEALGATE_BATCH_GATHER_MS for the stack (default: its own)")
    parser.add_argument("--json")
    args = parser.parse_args()
    # The per-partner request limit would throttle the generator, not the pipeline.
    env = {"DEALS_RATE_LIMIT_PER_MINUTE": "0"}
    if args.gather_ms is not None:
        env["DEALGATE_BATCH_GATHER_MS"] = str(args.gather_ms)
    with postgres_stack(extra_env=env) as stack:
        submitter = Submitter(stack)
        try:
            submitter.prepare()
            submitter.run_at(args.start, 10)  # warm-up: connection pools, caches, JIT-free steady state
            submitter.latencies(submitter.take_ids(), grace_s=30)
            result = ramp(submitter, start=args.start, factor=args.factor, step_s=args.step_s, limit=args.limit)
            if not result["pipeline_capacity_rps"]:
                raise RuntimeError(f"no step of the ramp passed, not even {args.start:.0f}/s")
            settle(submitter)
            result.update(steady(submitter, rate=result["pipeline_capacity_rps"] / 2, seconds=args.steady_s))
            if args.drain:
                result.update(drain(stack, submitter, count=args.drain))
        finally:
            submitter.close()
    summary = {k: v for k, v in result.items() if k not in ("verdict_latencies_ms",)}
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out)


if __name__ == "__main__":
    main()
