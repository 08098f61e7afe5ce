"""A seeded run for the channel analytics: python -m bench.analytics_seed [--registrations 2000]

Starts a private stack on PostgreSQL, submits registrations from every channel (partners of the reseller,
distributor and MSP channels, marketplace operators and direct sales) for customers in every region, about a
quarter of them for a customer another channel already registered, lets the desk decide part of the cases that
open, and prints what GET /v1/analytics answers for the run (also written to bench/results/analytics.json).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import random
import uuid
from pathlib import Path

import requests

from bench.common import bearer, postgres_stack, progress, wait_until

COUNTRIES = {"NA": ("US", "CA"), "EMEA": ("DE", "GB", "FR", "ZA"), "APAC": ("JP", "AU", "IN"),
             "LATAM": ("BR", "MX", "AR")}
RESULTS = Path(__file__).resolve().parent / "results"


def _identities(rng: random.Random) -> list[dict[str, str]]:
    """Who submits: three partners per partner channel, two marketplace operators, direct sales."""
    chosen = [bearer("partner", partner_id=f"{channel}-{n}", channel=channel)
              for channel in ("reseller", "distributor", "msp") for n in range(3)]
    chosen += [bearer("marketplace", partner_id=f"market-{n}") for n in range(2)]
    chosen += [bearer("sales")]
    rng.shuffle(chosen)
    return chosen


def seed(stack, *, registrations: int, overlap_share: float = 0.25, decide_share: float = 0.6) -> dict:
    rng = random.Random(11)
    admin, desk = bearer("admin"), bearer("desk", sub="desk:seed")
    catalog, deals, conflict = stack.url("catalog"), stack.url("deals"), stack.url("conflict")
    listing = requests.post(catalog + "/v1/listings", headers=admin, timeout=30, json={
        "title": "Analytics Suite", "summary": "seeded run", "vendor": "Dealgate", "category": "bench", "tags": [],
        "offers": [{"name": "Std", "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                    "regions": list(COUNTRIES),
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]}).json()
    requests.post(catalog + f"/v1/listings/{listing['id']}/publish", headers=admin, timeout=30).raise_for_status()
    submitters = _identities(rng)
    close = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    customers: list[dict] = []
    bodies = []
    for _ in range(registrations):
        if customers and rng.random() < overlap_share:
            customer = rng.choice(customers)
        else:
            region = rng.choice(list(COUNTRIES))
            tag = uuid.uuid4().hex[:10]
            customer = {"name": f"Seeded Customer {tag}", "domain": f"seed-{tag}.com",
                        "country": rng.choice(COUNTRIES[region])}
            customers.append(customer)
        bodies.append({"customer": customer, "products": [listing["id"]], "expected_close": close,
                       "amount": {"amount": f"{rng.randint(5, 500) * 1000}.00", "currency": "USD"}})

    refusals: list[str] = []

    def submit(index: int) -> str | None:
        for _ in range(5):  # the API's rate limit or a brief stall: the same key makes a retry safe
            response = requests.post(deals + "/v1/deals", json=bodies[index], timeout=30,
                                     headers={**submitters[index % len(submitters)],
                                              "Idempotency-Key": f"seed-{index}"})
            if response.status_code == 201:
                return str(response.json()["id"])
            if response.status_code < 500 and response.status_code != 429:
                refusals.append(f"{response.status_code} {response.text[:300]}")
                return None
        return None

    progress(f"submitting {registrations} registrations from {len(submitters)} identities of every channel ...")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = [deal_id for deal_id in pool.map(submit, range(registrations)) if deal_id]
    if refusals:
        progress(f"{len(refusals)} refused, the first: {refusals[0]}")
    progress(f"{len(ids)} accepted; waiting until conflict has judged them all ...")

    def judged() -> bool:
        total = requests.get(conflict + "/v1/analytics", headers=desk, timeout=30).json()["registrations"]["total"]
        return bool(total >= len(ids))

    wait_until(judged, 300, interval_s=1.0)
    cases, cursor = [], None
    while True:
        params = {"status": "open", "limit": "200"} | ({"cursor": cursor} if cursor else {})
        page = requests.get(conflict + "/v1/cases", headers=desk, timeout=30, params=params).json()
        cases += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    decided = cases[: int(len(cases) * decide_share)]
    progress(f"{len(cases)} open cases; the desk decides {len(decided)} of them ...")
    for case in decided:
        choice = rng.random()
        body = ({"decision": "award", "winner": rng.choice(case["registrations"])["deal_id"], "note": "seeded"}
                if choice < 0.7 else {"decision": "dismiss" if choice < 0.85 else "reject_all", "note": "seeded"})
        requests.post(conflict + f"/v1/cases/{case['id']}/claim", headers=desk, timeout=30)
        requests.post(conflict + f"/v1/cases/{case['id']}/resolve", headers=desk, json=body, timeout=30)
    answer: dict = requests.get(conflict + "/v1/analytics", headers=desk, timeout=30).json()
    return {"accepted": len(ids), "cases_opened": len(cases), "cases_decided": len(decided), "analytics": answer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=2000)
    args = parser.parse_args()
    with postgres_stack() as stack:
        result = seed(stack, registrations=args.registrations)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "analytics.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
