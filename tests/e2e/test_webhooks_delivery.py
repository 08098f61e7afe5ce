"""Webhooks on the real stack: a partner's endpoint receives signed deal.approved and deal.expired messages from the
webhook worker (Kafka -> PostgreSQL -> HTTP), at a real HTTP receiver that fails first and then accepts."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid

import pytest

from tests.e2e.test_deals_lifecycle import approved_deal, move_protection_end


class Receiver:
    """A webhook receiver on 127.0.0.1: answers 503 to the first `failures` requests, then 204; keeps each request."""

    def __init__(self, failures: int = 1):
        self.failures = failures
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver.lock:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.requests.append({"at": time.time(), "headers": headers, "body": body})
                    failing = len(receiver.requests) <= receiver.failures
                self.send_response(503 if failing else 204)
                if failing:
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"busy, try later " + b"x" * 4000)  # longer than what is ever kept
                else:
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dealgate/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.1)
        raise AssertionError(f"{len(self.requests)} requests arrived, not {count}, within {timeout_s} s")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver(failures=1)
    yield running
    running.close()


def independently_verified(secret: str, request: dict) -> bool:
    """The receiver's check written out from the specification, not with our own signing code."""
    headers = request["headers"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{request['body']}".encode()
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split(" "))


def test_an_approval_is_delivered_signed_after_one_failure_then_replayed_and_an_expiry_follows(api, stack, receiver):
    listing_id = api.published_listing()
    partner_id = f"e2e-hook-{uuid.uuid4().hex[:6]}"
    partner = api.headers("partner", partner_id=partner_id)
    created = api.call("POST", "deals", "/v1/webhooks", as_=partner,
                       json={"url": receiver.url, "events": ["deal.approved", "deal.expired"]})
    assert created.status_code == 201, created.text
    endpoint = created.json()
    secret = endpoint["secret"]

    deal = approved_deal(api, partner, listing_id)
    first, second = receiver.wait_for(2, timeout_s=60)
    for request in (first, second):
        assert independently_verified(secret, request), request["headers"]
        assert request["headers"]["content-type"] == "application/json"
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]  # one message, two attempts
    assert first["body"] == second["body"]
    assert 5.0 <= second["at"] - first["at"] <= 5.5 + 3.0  # the schedule's first retry (5 s, +10 % jitter, a poll)
    body = json.loads(second["body"])
    assert body["type"] == "deal.approved" and body["data"]["id"] == deal["id"]
    assert body["data"]["status"] == "approved" and body["data"]["reason"] == deal["reason"]
    assert "contact" not in body["data"] and "notes" not in body["data"]

    deliveries = api.call("GET", "deals", f"/v1/webhooks/{endpoint['id']}/deliveries", as_=partner).json()["items"]
    assert len(deliveries) == 1
    delivery = deliveries[0]
    assert delivery["id"] == first["headers"]["webhook-id"] and delivery["status"] == "succeeded"
    assert [a["response_status"] for a in delivery["attempts"]] == [503, 204]
    assert all(a["latency_ms"] >= 0 and a["trigger"] == "scheduled" for a in delivery["attempts"])
    assert delivery["attempts"][0]["response_excerpt"].startswith("busy, try later")
    assert len(delivery["attempts"][0]["response_excerpt"]) <= 512
    print("\n[webhook e2e] delivery as the partner sees it:\n" + json.dumps({**delivery, "payload": body}, indent=1))
    print("[webhook e2e] request headers received (attempt 2):\n" + json.dumps(
        {k: v for k, v in second["headers"].items() if k.startswith("webhook-")}, indent=1))
    print("[webhook e2e] signature verified independently with the secret: True")

    replayed = api.call("POST", "deals", f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay",
                        as_=partner)
    assert replayed.status_code == 202, replayed.text
    third = receiver.wait_for(3, timeout_s=30)[2]
    assert third["headers"]["webhook-id"] == delivery["id"] and third["body"] == first["body"]
    assert independently_verified(secret, third)

    move_protection_end(stack, deal["id"], dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    fourth = receiver.wait_for(4, timeout_s=60)[3]
    assert independently_verified(secret, fourth)
    expired = json.loads(fourth["body"])
    assert expired["type"] == "deal.expired" and expired["data"]["id"] == deal["id"]
    assert fourth["headers"]["webhook-id"] != delivery["id"]


def test_an_endpoint_is_private_to_its_partner_and_a_bad_scheme_is_refused(api, receiver):
    owner = api.headers("partner", partner_id=f"e2e-hook-{uuid.uuid4().hex[:6]}")
    stranger = api.headers("partner", partner_id=f"e2e-hook-{uuid.uuid4().hex[:6]}")
    endpoint = api.call("POST", "deals", "/v1/webhooks", as_=owner,
                        json={"url": receiver.url, "events": ["deal.rejected"]}).json()
    assert api.call("GET", "deals", f"/v1/webhooks/{endpoint['id']}", as_=stranger).status_code == 404
    refused = api.call("POST", "deals", "/v1/webhooks", as_=owner,
                       json={"url": "gopher://127.0.0.1/", "events": ["deal.rejected"]})
    assert refused.status_code == 422 and "url" in refused.json()["errors"]
