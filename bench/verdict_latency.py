"""Submit-to-verdict latency at a steady rate: python -m bench.verdict_latency [--rate 100] [--seconds 60]

Latency is measured on the server's clocks: from the registration's `submitted_at` (set just before the 201)
to the history entry written when its verdict was applied in deals. About one in five registrations overlaps
an earlier one, so both verdict kinds (cleared and case) are in the mix.
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


def run(stack, *, rate: float, seconds: float, overlap_share: float = 0.2) -> dict:
    admin = bearer("admin")
    catalog, deals = stack.url("catalog"), stack.url("deals")
    listing = requests.post(catalog + "/v1/listings", headers=admin, json={
        "title": "Latency Suite", "summary": "bench", "vendor": "Dealgate", "category": "bench", "tags": [],
        "offers": [{"name": "Std", "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                    "regions": ["NA", "EMEA", "APAC", "LATAM"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]}).json()
    requests.post(catalog + f"/v1/listings/{listing['id']}/publish", headers=admin).raise_for_status()
    partners = [bearer("partner", partner_id=f"bench-partner-{i}") for i in range(8)]
    close = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    probe = {"customer": {"name": "Probe Ltd", "country": "GB"}, "products": [listing["id"]],
             "amount": {"amount": "1.00", "currency": "USD"}, "expected_close": close}
    wait_until(lambda: requests.post(deals + "/v1/deals", headers=partners[0], json=probe).status_code == 201, 30)

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

    total = int(rate * seconds)
    progress(f"submitting {total} registrations at {rate:.0f}/s for {seconds:.0f}s ...")
    futures = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        for index in range(total):
            due = started + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(submit, index))
            if index and index % int(rate * 10) == 0:
                progress(f"  {index}/{total} sent")
    ids = [f.result() for f in futures]
    acknowledged = [i for i in ids if i]
    progress(f"{len(acknowledged)}/{total} acknowledged; collecting verdicts ...")

    latencies = []
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
                    latencies.append((_parse(verdict["at"]) - _parse(deal["submitted_at"])).total_seconds() * 1000)
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
        "verdict_latencies_ms": latencies,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json")
    args = parser.parse_args()
    with postgres_stack() as stack:
        result = run(stack, rate=args.rate, seconds=args.seconds)
    summary = {k: v for k, v in result.items() if k != "verdict_latencies_ms"}
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out)


if __name__ == "__main__":
    main()
