"""SPEC 8: overlapping registrations submitted at the same instant, judged by two consumer processes in parallel,
still end up in one case per overlap, whatever partitions they land on."""
import subprocess
import sys
import threading
import time

from deploy.stack import REPO
from shared.topics import CONFLICT_CASES
from tests.conftest import unique
from tests.kafka_helpers import events_by_type, read_all

PAIRS = 20


def test_two_consumer_processes_open_exactly_one_case_per_simultaneous_pair(stack, api):
    # Two more consumers join the running one's group: three processes share the six partitions. They are
    # started here (not through the stack) so the stack's own consumer stays on its books for `down`.
    extra = [_start_consumer(stack, n) for n in range(2)]
    try:
        time.sleep(8)  # let the group rebalance so that all three consumers hold partitions
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
        for first, second in pairs:
            a = api.wait_for_verdict(first, reseller)
            b = api.wait_for_verdict(second, sales)
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
    finally:
        for process in extra:
            process.terminate()
        for process in extra:
            process.wait(timeout=30)


def _start_consumer(stack, n: int) -> subprocess.Popen:
    log = open(stack.log_dir / f"conflict-consume-extra-{n}.log", "ab")  # noqa: SIM115 - the child writes to it
    return subprocess.Popen([sys.executable, "-m", "services.conflict.workers.consume"], env=stack.env(),
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
