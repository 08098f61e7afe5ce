"""SPEC section 8 under real faults: SIGKILLed relays and consumers, and a broker that goes away.

Each test counts what travelled on Kafka and what each deal became, so it fails if anything acknowledged is
lost or takes effect twice.
"""
import re
import time

from shared.topics import CONFLICT_CASES, DEALS_REGISTRATIONS
from tests.kafka_helpers import events_by_type, read_all


def _submit_many(api, count: int, partner_id: str) -> tuple[dict, list[str]]:
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id=partner_id)
    ids = []
    for _ in range(count):
        response = api.submit(partner, [listing_id])
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return partner, ids


def _wait_all_decided(api, partner, ids, timeout_s=90.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    statuses = {}
    for deal_id in ids:
        remaining = max(1.0, deadline - time.monotonic())
        statuses[deal_id] = api.wait_for_verdict(deal_id, partner, timeout_s=remaining)["status"]
    return statuses


def _wait_exit(process, timeout_s=60.0) -> int:
    return process.wait(timeout=timeout_s)


def _outbox_backlog(api, service: str) -> float:
    found = re.search(r"^dealgate_outbox_backlog(?:\{[^}]*\})? (\S+)$", api.call("GET", service, "/metrics").text,
                      re.MULTILINE)
    return float(found.group(1)) if found else -1.0


def test_relay_killed_between_publish_and_mark_loses_nothing_and_duplicates_take_no_effect(stack, api):
    # Earlier tests' events still waiting in the outbox would fill part of the crashing relay's first batch.
    deadline = time.monotonic() + 30
    while _outbox_backlog(api, "deals") != 0 and time.monotonic() < deadline:
        time.sleep(0.5)  # the gauge is cached for a few seconds
    stack.kill("deals-relay")
    partner, ids = _submit_many(api, 120, "guarantee-relay")  # acknowledged while no relay runs

    # This relay dies right after Kafka acknowledged its first batch and before it marks the rows sent.
    crashing = stack.start_worker("deals", "relay", {"DEALGATE_FAULT_RELAY_EXIT_AFTER_PUBLISH": "1",
                                                     "DEALGATE_FAULT_RELAY_BATCH_SIZE": "40"})
    assert _wait_exit(crashing) == 137
    stack.start_worker("deals", "relay")

    statuses = _wait_all_decided(api, partner, ids)
    assert set(statuses.values()) == {"approved"}, statuses

    submitted = events_by_type(read_all(stack.kafka.bootstrap_servers, DEALS_REGISTRATIONS), "deal.submitted")
    verdicts = events_by_type(read_all(stack.kafka.bootstrap_servers, CONFLICT_CASES), "registration.cleared")
    assert all(submitted[deal_id] >= 1 for deal_id in ids), "every acknowledged registration was published"
    assert sum(1 for deal_id in ids if submitted[deal_id] == 2) >= 40, "the crash republished the first batch"
    assert all(verdicts[deal_id] == 1 for deal_id in ids), "yet each registration got exactly one verdict"


def test_consumer_killed_between_its_commit_and_its_offset_commit_changes_nothing_on_redelivery(stack, api):
    stack.kill("conflict-consume")
    partner, ids = _submit_many(api, 30, "guarantee-consumer")

    crashing = stack.start_worker("conflict", "consume", {"DEALGATE_FAULT_CONSUMER_EXIT_AFTER_COMMIT": "10"})
    assert _wait_exit(crashing) == 137
    stack.start_worker("conflict", "consume")

    statuses = _wait_all_decided(api, partner, ids)
    assert set(statuses.values()) == {"approved"}, statuses
    verdicts = events_by_type(read_all(stack.kafka.bootstrap_servers, CONFLICT_CASES), "registration.cleared")
    assert [verdicts[deal_id] for deal_id in ids] == [1] * len(ids)
    approvals = events_by_type(read_all(stack.kafka.bootstrap_servers, DEALS_REGISTRATIONS), "deal.approved")
    assert [approvals[deal_id] for deal_id in ids] == [1] * len(ids)


def test_with_kafka_down_the_api_keeps_acknowledging_and_everything_flows_once_it_is_back(stack, api):
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id="guarantee-kafka")
    assert api.submit(partner, [listing_id]).status_code == 201  # deals knows the listing before the outage

    stack.kafka.kill()
    ids = []
    for _ in range(40):
        response = api.submit(partner, [listing_id])
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    # Still ready (the outbox takes every write), and saying where the trouble is: /healthz and /metrics (each
    # gunicorn worker keeps its last measurement a few seconds).
    assert api.call("GET", "deals", "/readyz").status_code == 200, "a load balancer must keep every instance"
    deadline, reported = time.monotonic() + 15, False
    while not reported and time.monotonic() < deadline:
        reported = (api.call("GET", "deals", "/healthz").json()["detail"]["kafka"].startswith("failed")
                    and "dealgate_kafka_up 0.0" in api.call("GET", "deals", "/metrics").text)
        time.sleep(0.2)
    assert reported, "/healthz and /metrics report the broker away"

    outage_ended = time.monotonic()
    stack.kafka.start()
    statuses = _wait_all_decided(api, partner, ids, timeout_s=120)
    recovery_s = time.monotonic() - outage_ended
    assert set(statuses.values()) == {"approved"}, statuses
    verdicts = events_by_type(read_all(stack.kafka.bootstrap_servers, CONFLICT_CASES), "registration.cleared")
    assert [verdicts[deal_id] for deal_id in ids] == [1] * len(ids)
    print(f"backlog drained {recovery_s:.1f}s after the broker came back")
