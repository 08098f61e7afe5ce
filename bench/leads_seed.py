"""A seeded run of lead distribution: python -m bench.leads_seed [--leads 500] [--database-url URL]

Twenty partners (4 platinum, 5 gold, 6 silver, 5 registered) in four country groups, each with a profile; four
country territories and two territories of named accounts (one a partner's, one direct's), as deals' read model
holds them from conflicts.territories.v1; a history of won and lost registrations that gives each partner its
win rate; some customers already registered by a partner. Then the leads arrive over four simulated weeks,
through deals' own use cases on a real database (migrations included), with a simulated clock: each partner
answers the leads it is given as its seeded habits say (accepts, declines with a reason, or lets the SLA of
48 business hours pass), and the SLA job runs every simulated quarter hour. Prints how the assignments spread
over tiers and territories, and the acceptance and reassignment figures (also written to
bench/results/leads_seed.json). The default database is a temporary SQLite file; --database-url takes
PostgreSQL too.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import heapq
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from services.deals import lead_handlers
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.domain.leads import LeadError
from services.deals.domain.model import Registration
from services.deals.domain.policy import DealPolicy
from services.deals.lead_settings import lead_policy
from services.deals.settings import DealsSettings
from shared.auth import Principal
from shared.db import upgrade_to_head
from shared.events import CloudEvent

RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = {"dach": ("DE", "AT", "CH"), "nordics": ("SE", "NO", "DK", "FI"), "uki": ("GB", "IE"),
          "benefr": ("NL", "BE", "FR")}
# Where the leads' customers are: most in the four groups, a few where no partner sells (they go to the desk).
LEAD_COUNTRIES = {"DE": 16, "AT": 4, "CH": 4, "SE": 8, "NO": 4, "DK": 3, "FI": 3, "GB": 15, "IE": 4, "NL": 9,
                  "BE": 4, "FR": 11, "JP": 2}
TIERS = ("platinum",) * 4 + ("gold",) * 5 + ("silver",) * 6 + ("registered",) * 5
CAPACITY = {"platinum": 12, "gold": 8, "silver": 6, "registered": 4}
START = dt.datetime(2030, 1, 7, 8, 0, tzinfo=dt.UTC)  # a Monday


def partners(rng: random.Random) -> list[dict[str, Any]]:
    """Twenty partners: each sells in one country group (a third of them in two), with seeded habits."""
    names = list(GROUPS)
    found = []
    for n, tier in enumerate(TIERS):
        groups = [names[n % 4]] + ([names[(n + 1 + rng.randrange(3)) % 4]] if rng.random() < 0.33 else [])
        found.append({
            "partner_id": f"p{n:02d}-{tier}", "tier": tier,
            "countries": sorted({c for g in groups for c in GROUPS[g]}), "groups": groups,
            "lead_capacity": CAPACITY[tier],
            # habits: how often it accepts, declines or ignores a lead, and how fast it answers (hours)
            "accept": rng.uniform(0.45, 0.9), "decline": rng.uniform(0.05, 0.3),
            "answer_hours": rng.uniform(1, 30), "win_rate": rng.uniform(0.2, 0.7)})
    return found


def seed(*, leads: int, database_url: str, seed_value: int = 18, weights: str = "") -> dict[str, Any]:
    """`weights`: DEALS_LEAD_WEIGHTS for this run (empty: the default)."""
    rng = random.Random(seed_value)
    upgrade_to_head(database_url, MIGRATIONS)
    settings = DealsSettings.from_env(env={"DEALS_LEAD_WEIGHTS": weights}, database_url=database_url,
                                      relay_doorbell=None, kafka_bootstrap_servers="127.0.0.1:1")
    deals = bootstrap(settings)
    policy, deal_policy = lead_policy(settings), DealPolicy()
    admin = Principal(sub="admin:seed", role="admin")
    sales = Principal(sub="sales:seed", role="sales", channel="direct")
    product = str(uuid.uuid4())
    with deals.uow_factory() as uow:
        uow.catalog.upsert({"id": product, "title": "Seeded Suite", "status": "published", "version": 1,
                            "offers": [{"id": "std", "name": "Std", "channels": ["reseller", "direct"],
                                        "regions": ["NA", "EMEA", "APAC", "LATAM"], "visibility": "public"}]})
        uow.commit()
    people = partners(rng)
    by_id = {p["partner_id"]: p for p in people}
    for p in people:
        lead_handlers.put_partner(p["partner_id"], {k: p[k] for k in ("tier", "countries", "lead_capacity")}
                                  | {"channels": ["reseller"]}, principal=admin, uow=deals.uow_factory())
    # Territories: one per country group, owned by a partner selling there; two of named accounts.
    named: dict[str, str] = {}
    territory_documents: list[dict[str, Any]] = []
    for group, countries in GROUPS.items():
        chosen = rng.choice([p for p in people if group in p["groups"] and p["tier"] in ("platinum", "gold")])
        territory_documents.append({"name": f"{group}-territory", "owner": chosen["partner_id"], "version": 1,
                                    "countries": list(countries), "named_accounts": []})
    for name, owner in (("key-accounts-direct", "direct"), ("key-accounts-partner", people[0]["partner_id"])):
        accounts = [f"key{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}.com" for _ in range(10)]
        named.update({account: owner for account in accounts})
        territory_documents.append({"name": name, "owner": owner, "version": 1, "countries": [],
                                    "named_accounts": [{"kind": "domain", "key": a, "given": a} for a in accounts]})
    for document in territory_documents:
        with deals.uow_factory() as uow:
            lead_handlers.on_territory_changed(CloudEvent(type="territory.updated", source="/seed",
                                                          subject=document["name"], data=document), uow=uow)
            uow.commit()
    # History: closed registrations give each partner its win rate; some open ones make holders of customers.
    held: list[tuple[dict[str, Any], str]] = []
    with deals.uow_factory() as uow:
        for p in people:
            for _ in range(rng.randint(4, 12)):
                registration = _registration(p, _customer(rng, rng.choice(p["countries"])), product, START)
                registration.approve(protection=deal_policy.protection, reason="seed", now=START)
                registration.close(outcome="won" if rng.random() < p["win_rate"] else "lost", now=START)
                uow.registrations.add(registration)
            for _ in range(2):
                customer = _customer(rng, rng.choice(p["countries"]))
                registration = _registration(p, customer, product, START)
                registration.approve(protection=deal_policy.protection, reason="seed", now=START)
                uow.registrations.add(registration)
                held.append((customer, p["partner_id"]))
        uow.commit()

    # The leads arrive over 20 business days; partners answer as their habits say; the SLA job runs often.
    started = time.perf_counter()
    arrivals = sorted(START + dt.timedelta(days=rng.uniform(0, 26)) for _ in range(leads))
    agenda: list[tuple[dt.datetime, int, str, str, str]] = []  # (when, tiebreak, action, lead id, partner id)
    counter = 0
    created = []
    named_accounts, countries_weighted = list(named), list(LEAD_COUNTRIES.items())

    def plan(lead: Any, now: dt.datetime) -> None:
        """The assignee decides what to do with a newly assigned lead, and when."""
        nonlocal counter
        if lead.current is None:
            return  # in the desk's queue
        if lead.assignee == "direct":  # direct's named accounts: the direct team takes them within two hours
            counter += 1
            heapq.heappush(agenda, (now + dt.timedelta(hours=rng.uniform(0.2, 2)), counter, "accept", lead.id,
                                    "direct"))
            return
        partner = by_id[lead.assignee]
        roll = rng.random()
        action = "accept" if roll < partner["accept"] else "decline" if roll < partner["accept"] + partner[
            "decline"] else "ignore"
        if action == "ignore":
            return  # the SLA job will take it back
        delay = dt.timedelta(hours=rng.expovariate(1 / partner["answer_hours"]))
        if now + delay < lead.current.due_at:
            counter += 1
            heapq.heappush(agenda, (now + delay, counter, action, lead.id, lead.assignee))

    clock = START
    next_sweep = START
    pending = collections.deque(arrivals)
    while pending or agenda or _still_assigned(deals):
        upcoming = min(t for t in (pending[0] if pending else None, agenda[0][0] if agenda else None, next_sweep)
                       if t)
        clock = upcoming
        if upcoming == next_sweep:  # the SLA job, every simulated 15 minutes
            before = _overdue(deals, next_sweep)
            if before:
                lead_handlers.reassign_overdue(uow_factory=deals.uow_factory, policy=policy, now=next_sweep)
                for lead_id in before:
                    plan(lead_handlers.get_lead(lead_id, principal=admin, uow=deals.uow_factory()), next_sweep)
            next_sweep += dt.timedelta(minutes=15)
            continue
        if pending and pending[0] == upcoming:
            pending.popleft()
            customer = _lead_customer(rng, held, named_accounts, countries_weighted)
            lead = lead_handlers.create_lead(customer, [product], None, principal=sales, policy=policy,
                                             uow=deals.uow_factory(), now=clock)
            created.append(lead.id)
            plan(lead, clock)
            continue
        _, _, action, lead_id, partner_id = heapq.heappop(agenda)
        principal = sales if partner_id == "direct" else Principal(sub=f"partner:{partner_id}", role="partner",
                                                                    partner_id=partner_id, channel="reseller")
        try:
            if action == "accept":
                lead_handlers.accept_lead(lead_id, {}, principal=principal, deal_policy=deal_policy,
                                          uow=deals.uow_factory(), now=clock)
            else:
                lead = lead_handlers.decline_lead(lead_id, "No capacity for this one", principal=principal,
                                                  policy=policy, uow=deals.uow_factory(), now=clock)
                plan(lead, clock)
        except (LeadError, lead_handlers.NotFound):
            pass  # taken back by the SLA job meanwhile
    elapsed = time.perf_counter() - started
    report = {"weights": dict(policy.weights),
              **_report(deals, by_id, territory_documents, elapsed=elapsed, leads=len(created))}
    deals.engine.dispose()
    return report


def _registration(p: dict[str, Any], customer: dict[str, Any], product: str, now: dt.datetime) -> Registration:
    return Registration.submit(partner_id=p["partner_id"], channel="reseller", submitted_by="seed", customer=customer,
                               products=[product], amount={"amount": "10000.00", "currency": "EUR"},
                               expected_close="2030-06-30", now=now)


def _customer(rng: random.Random, country: str) -> dict[str, Any]:
    token = uuid.UUID(int=rng.getrandbits(128)).hex[:10]
    return {"name": f"Customer {token}", "domain": f"c{token}.com", "country": country}


def _lead_customer(rng, held, named_accounts, countries_weighted) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.06 and held:
        return dict(rng.choice(held)[0])
    if roll < 0.10:
        account = rng.choice(named_accounts)
        return {"name": f"Key account {account}", "domain": account, "country": rng.choice(("DE", "GB", "FR"))}
    countries, weights = zip(*countries_weighted, strict=True)
    return _customer(rng, rng.choices(countries, weights)[0])


def _still_assigned(deals) -> bool:
    with deals.uow_factory() as uow:
        return bool(uow.leads.list(status="assigned", limit=1))


def _overdue(deals, now: dt.datetime) -> list[str]:
    with deals.uow_factory() as uow:
        return uow.leads.overdue(now, 500)


def _report(deals, by_id: dict[str, dict[str, Any]], territory_documents, *, elapsed: float,
            leads: int) -> dict[str, Any]:
    with deals.uow_factory() as uow:
        all_leads = uow.leads.all()
    analytics = lead_handlers.lead_analytics(uow=deals.uow_factory())
    territory_of = {}
    for document in territory_documents:
        for country in document["countries"]:
            territory_of[country] = document["name"]
    first_by_tier: collections.Counter[str] = collections.Counter()
    accepted_by_tier: collections.Counter[str] = collections.Counter()
    by_territory: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    per_partner: collections.Counter[str] = collections.Counter()
    basis: collections.Counter[str] = collections.Counter()
    owner_share: collections.Counter[str] = collections.Counter()
    for lead in all_leads:
        country = str(lead.customer.get("country"))
        territory = territory_of.get(country, "none")
        if lead.attempts:
            first = lead.attempts[0]
            tier = by_id.get(first.partner_id, {}).get("tier", first.partner_id)
            first_by_tier[tier] += 1
            basis[first.basis] += 1
            by_territory[territory]["leads"] += 1
            if first.basis == "score":
                owner_share["score"] += 1
                if any(r["factor"] == "territory" and r["value"] == 1.0 for r in first.reasons):
                    owner_share["to_territory_owner"] += 1
        else:
            basis["desk_at_once"] += 1
            by_territory[territory]["leads"] += 1
        for attempt in lead.attempts:
            per_partner[attempt.partner_id] += 1
        if lead.status == "accepted":
            accepted = lead.attempts[-1].partner_id
            accepted_by_tier[by_id.get(accepted, {}).get("tier", accepted)] += 1
        by_territory[territory][lead.status] += 1
    reassigned_leads = sum(1 for lead in all_leads if len(lead.attempts) > 1)
    outcomes = collections.Counter(a.outcome or "open" for lead in all_leads for a in lead.attempts)
    partner_counts = [per_partner.get(p, 0) for p in by_id]
    return {
        "leads": leads, "partners": len(by_id), "seconds": round(elapsed, 1),
        "first_assignment_basis": dict(basis),
        "first_assignment_by_tier": dict(first_by_tier),
        "accepted_by_tier": dict(accepted_by_tier),
        "scored_to_territory_owner": dict(owner_share),
        "by_territory": {name: dict(counts) for name, counts in sorted(by_territory.items())},
        "assignments_per_partner": {"min": min(partner_counts), "median": statistics.median(partner_counts),
                                    "partners_with_none": sum(1 for n in partner_counts if n == 0),
                                    "max": max(partner_counts),
                                    "by_partner": dict(sorted(per_partner.items()))},
        "attempt_outcomes": dict(outcomes),
        "leads_reassigned_at_least_once": reassigned_leads,
        "reassignments": analytics["reassignments"],
        "final_status": analytics["by_status"],
        "acceptance_rate": analytics["acceptance_rate"],
        "attempt_acceptance_rate": analytics["attempt_acceptance_rate"],
        "time_to_accept_hours": analytics["time_to_accept_hours"],
        "by_tier": analytics["by_tier"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--weights", default="", help="DEALS_LEAD_WEIGHTS for this run, e.g. capacity=40,tier=20")
    parser.add_argument("--output", default="leads_seed.json", help="file name under bench/results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{directory}/leads_seed.db"
        report = seed(leads=args.leads, database_url=url, seed_value=args.seed, weights=args.weights)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.output).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
