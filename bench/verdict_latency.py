"""Submit-to-verdict latency at a steady rate: python -m bench.verdict_latency [--rate 100] [--seconds 60]

Latency is measured on the server's clocks: from the registration's `submitted_at` (set just before the 201)
to the history entry written when its verdict was applied in deals. About one in five registrations overlaps
an earlier one, so both verdict kinds (cleared and case) are in the mix.

The measured registrations follow a warm-up at the same rate (default 10 s, reported as verdict_warmup_s):
the first seconds after a stack starts measure consumer-group joins and cold caches, not the steady state.
`verdict_series` keeps each latency with its submission time, so a stall anywhere in the run stays visible.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import random
import threading
import time
import uuid

import requests

from bench.common import bearer, percentile, postgres_stack, progress, wait_until


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(stack, *, rate: float, seconds: float, overlap_share: float = 0.2, warmup_s: float = 10.0) -> dict:
    admin = bearer("admin")
    catalog, deals = stack.url("catalog"), stack.url("deals")
    listing = requests.post(catalog + "/v1/listings", headers=admin, json={
        "title": "Latency Suite", "summary": "bench", "vendor": "Dealgate", "category": "bench", "tags": [],
        "offers": [{"name": "Std", "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                    "regions": ["NA", "EMEA", "APAC", "LATAM"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]},
        timeout=30).json()
    requests.post(catalog + f"/v1/listings/{listing['id']}/publish", headers=admin, timeout=30).raise_for_status()
    partners = [bearer("partner", partner_id=f"bench-partner-{i}") for i in range(8)]
    close = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    probe = {"customer": {"name": "Probe Ltd", "country": "GB"}, "products": [listing["id"]],
             "amount": {"amount": "1.00", "currency": "USD"}, "expected_close": close}
    probe_ids: list[str] = []

    def submit_probe() -> bool:
        response = requests.post(deals + "/v1/deals", headers=partners[0], json=probe, timeout=30)
        if response.status_code == 201:
            probe_ids.append(response.json()["id"])
        return bool(probe_ids)

    wait_until(submit_probe, 30)
    # Steady state is the point: the consumers have joined their groups once the probe has its verdict.
    progress("waiting for the probe's verdict (consumers joined and caught up) ...")
    wait_until(lambda: requests.get(deals + f"/v1/deals/{probe_ids[0]}", headers=partners[0], timeout=30)
               .json()["status"] != "submitted", 60, interval_s=0.2)

    customers: list[dict] = []
    rng = random.Random(7)
    local = threading.local()

    def submit(index: int) -> str | None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        if customers and rng.random() < overlap_share:
            customer = rng.choice(customers)  # the same customer again, from another partner
        else:
            tag = uuid.uuid4().hex[:10]
            customer = {"name": f"Bench Customer {tag} GmbH", "domain": f"bench-{tag}.de", "country": "DE"}
            customers.append(customer)
        body = {"customer": customer, "products": [listing["id"]], "amount": {"amount": "5000.00", "currency": "EUR"},
                "expected_close": close}
        response = session.post(deals + "/v1/deals", headers=partners[index % len(partners)], json=body, timeout=10)
        return response.json()["id"] if response.status_code == 201 else None

    warmup = int(rate * warmup_s)
    total = int(rate * seconds)
    progress(f"warming up: {warmup} registrations at {rate:.0f}/s for {warmup_s:.0f}s (not measured), then "
             f"{total} measured ones at {rate:.0f}/s for {seconds:.0f}s ...")
    futures = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        for index in range(warmup + total):  # one steady schedule: the measured part follows without a pause
            due = started + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(submit, index))
            if index and index % int(rate * 10) == 0:
                progress(f"  {index}/{warmup + total} sent")
    ids = [f.result() for f in futures[warmup:]]
    acknowledged = [i for i in ids if i]
    progress(f"{len(acknowledged)}/{total} measured ones acknowledged; collecting verdicts ...")

    latencies = []
    series: list[tuple[float, float]] = []  # (submitted at, latency ms): shows when in the run the slow ones were
    session = requests.Session()
    desk = bearer("desk")
    wanted = set(acknowledged)
    deadline = time.monotonic() + 60
    while wanted and time.monotonic() < deadline:
        cursor = None
        while True:  # page through every registration (desk sees all), history included
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            response = session.get(deals + "/v1/deals", headers=desk, params=params, timeout=30)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            page = response.json()
            for deal in page["items"]:
                if deal["id"] in wanted and deal["status"] != "submitted":
                    verdict = next(h for h in deal["history"] if h["status"] != "submitted")
                    submitted_at = _parse(deal["submitted_at"])
                    latencies.append((_parse(verdict["at"]) - submitted_at).total_seconds() * 1000)
                    series.append((submitted_at.timestamp(), latencies[-1]))
                    wanted.discard(deal["id"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if wanted:
            time.sleep(0.5)
    pending = wanted
    return {
        "verdict_p50_ms": round(percentile(latencies, 0.50), 1),
        "verdict_p99_ms": round(percentile(latencies, 0.99), 1),
        "verdict_max_ms": round(max(latencies), 1) if latencies else None,
        "verdict_count": len(latencies),
        "verdict_missing": len(pending),
        "verdict_rate_per_s": rate,
        "verdict_warmup_s": warmup_s,
        "verdict_latencies_ms": latencies,
        "verdict_series": _relative(series),
    }


def _relative(series: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not series:
        return []
    start = min(at for at, _ in series)
    return sorted((round(at - start, 3), round(latency, 1)) for at, latency in series)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds at the same rate before measuring")
    parser.add_argument("--json")
    args = parser.parse_args()
    with postgres_stack() as stack:
        result = run(stack, rate=args.rate, seconds=args.seconds, warmup_s=args.warmup)
    summary = {k: v for k, v in result.items() if k not in ("verdict_latencies_ms", "verdict_series")}
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out)


if __name__ == "__main__":
    main()
