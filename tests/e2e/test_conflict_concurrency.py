"""SPEC 8 and issue 12: overlapping registrations submitted at the same instant, judged by two conflict consumer
processes and decided by two deals consumer processes (each pair in one group, the partitions spread across
them), with two deals relays publishing, still end up in one case per overlap and one verdict per registration."""
import datetime as dt
import json
import signal
import threading
import time
from collections import Counter

from services.conflict.handlers import CONSUMED_TOPICS as CONFLICT_CONSUMED_TOPICS
from services.deals.handlers import CONSUMED_TOPICS as DEALS_CONSUMED_TOPICS
from shared.topics import CONFLICT_CASES, DEALS_REGISTRATIONS
from tests.conftest import unique
from tests.kafka_helpers import events_by_type, read_all

PAIRS = 20
# The topics each service's consumer group reads (their partition counts are in shared/topics.py).
GROUPS = {"conflict": CONFLICT_CONSUMED_TOPICS, "deals": DEALS_CONSUMED_TOPICS}


def test_two_consumers_per_service_and_two_relays_open_one_case_per_simultaneous_pair_and_one_verdict_each(stack,
                                                                                                         api):
    # One more consumer joins each service's group, and a second deals relay runs beside the stack's own.
    since = dt.datetime.now(dt.UTC)
    extra = ["conflict-consume-2", "deals-consume-2", "deals-relay-2"]
    for name in extra:
        service, _, worker = name.rpartition("-")[0].partition("-")
        stack.start_worker(service, worker, name=name)
    try:
        assignments = _wait_for_spread_assignments(stack, since, timeout_s=90)
        print("partitions per consumer:", json.dumps(assignments, indent=1))
        product = api.published_listing()
        reseller = api.headers("partner", partner_id=unique("race-reseller"))
        sales = api.headers("sales")
        pairs = []
        for n in range(PAIRS):
            domain = f"{unique('race')}.fr"
            customers = ({"name": f"Course {n} Simultanée SAS", "domain": domain, "country": "FR"},
                         {"name": f"COURSE {n} SIMULTANEE", "domain": f"https://{domain}", "country": "FR"})
            results = [None, None]
            barrier = threading.Barrier(2)

            def submit(side, customer, token, results=results, barrier=barrier):
                barrier.wait(timeout=10)
                results[side] = api.submit(token, [product], customer=customer)

            threads = [threading.Thread(target=submit, args=(0, customers[0], reseller)),
                       threading.Thread(target=submit, args=(1, customers[1], sales))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert all(r is not None and r.status_code == 201 for r in results), results
            pairs.append((results[0].json()["id"], results[1].json()["id"]))

        case_refs = []
        deals = {}
        for first, second in pairs:
            a = api.wait_for_verdict(first, reseller, timeout_s=60)
            b = api.wait_for_verdict(second, sales, timeout_s=60)
            deals[first], deals[second] = a, b
            case_refs.append((a.get("case_ref"), b.get("case_ref")))
        # The later of each pair goes into review; the earlier one may already be approved, but both are in a case.
        desk = api.headers("desk")
        for (first, second), refs in zip(pairs, case_refs, strict=True):
            case_id = refs[0] or refs[1]
            assert case_id, f"pair {first}/{second} found no overlap"
            case = api.call("GET", "conflict", f"/v1/cases/{case_id}", as_=desk).json()
            assert {r["deal_id"] for r in case["registrations"]} == {first, second}
        records = read_all(stack.kafka.bootstrap_servers, CONFLICT_CASES)
        opened = events_by_type(records, "case.opened")
        case_ids = {r[0] or r[1] for r in case_refs}
        assert len(case_ids) == PAIRS and all(opened[c] == 1 for c in case_ids), "exactly one case per pair"
        cleared = events_by_type(records, "registration.cleared")
        for first, second in pairs:
            assert cleared[first] + cleared[second] == 1, "one of each pair was first, the other joined it"
        # Deals applied exactly one verdict to each registration: submitted, then one status (approved or
        # in_conflict), whichever of its two consumers applied it.
        time.sleep(2)  # a verdict applied twice would show as a third history entry: give a second copy its time
        for deal_id in deals:
            history = api.call("GET", "deals", f"/v1/deals/{deal_id}", as_=desk).json()["history"]
            assert [h["status"] for h in history][0] == "submitted" and len(history) == 2, (deal_id, history)
        # Two deals relays published every registration once between them.
        submitted = events_by_type(read_all(stack.kafka.bootstrap_servers, DEALS_REGISTRATIONS), "deal.submitted")
        copies = Counter(submitted[deal_id] for deal_id in deals)
        print(f"deal.submitted copies per registration with two deals relays: {dict(copies)}")
        assert copies == Counter({1: 2 * PAIRS})
    finally:
        for name in extra:
            stack.kill(name, signal.SIGTERM)


def _latest_assignments(stack, name: str, since: dt.datetime) -> list[str] | None:
    """The partitions a consumer process said it holds after its last rebalance since `since` (None: none yet)."""
    latest = None
    path = stack.log_dir / f"{name}.log"
    if not path.exists():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if "consumer.partitions_assigned" not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if dt.datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")) >= since:
            latest = entry["partitions"]
    return latest


def _wait_for_spread_assignments(stack, since: dt.datetime, timeout_s: float) -> dict[str, list[str]]:
    """Until each of the four consumers holds at least one partition, the two of a group hold every partition of
    its topics between them, and none twice."""
    from kafka import KafkaConsumer

    probe = KafkaConsumer(bootstrap_servers=stack.kafka.bootstrap_servers)
    try:
        wanted = {service: {f"{topic}:{p}" for topic in topics for p in probe.partitions_for_topic(topic) or ()}
                  for service, topics in GROUPS.items()}
    finally:
        probe.close()
    deadline = time.monotonic() + timeout_s
    while True:
        assignments = {name: _latest_assignments(stack, name, since)
                       for service in GROUPS for name in (f"{service}-consume", f"{service}-consume-2")}
        spread = all(
            assignments[f"{service}-consume"] and assignments[f"{service}-consume-2"]
            and not set(assignments[f"{service}-consume"]) & set(assignments[f"{service}-consume-2"])
            and set(assignments[f"{service}-consume"]) | set(assignments[f"{service}-consume-2"]) == wanted[service]
            for service in GROUPS)
        if spread:
            return assignments
        assert time.monotonic() < deadline, f"partitions not spread across two consumers per group: {assignments}"
        time.sleep(0.5)
