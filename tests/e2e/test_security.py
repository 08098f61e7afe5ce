"""Who may do what, over real HTTP: a table of role x endpoint -> status, BOLA on every id-taking endpoint,
tampered tokens, hostile strings, and poison events on every topic."""
from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid

import jwt
import pytest

from shared.bus import KafkaBus, OutgoingMessage
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES, DEALS_REGISTRATIONS, dlq_name
from tests.kafka_helpers import read_all

ROLES = ("anonymous", "partner", "other_partner", "marketplace", "sales", "desk", "admin")


@pytest.fixture(scope="module")
def world(api):
    """One listing, one deal owned by `partner`, and one conflict case, for the matrix to point at."""
    listing_id = api.published_listing()
    headers = {
        "anonymous": {},
        "partner": api.headers("partner", partner_id="matrix-owner"),
        "other_partner": api.headers("partner", partner_id="matrix-intruder"),
        "marketplace": api.headers("marketplace", partner_id="matrix-market"),
        "sales": api.headers("sales"),
        "desk": api.headers("desk"),
        "admin": api.headers("admin"),
    }
    customer = {"name": f"Matrix {uuid.uuid4().hex[:6]} AG", "domain": f"matrix-{uuid.uuid4().hex[:6]}.ch",
                "country": "CH"}
    owned = api.submit(headers["partner"], [listing_id], customer=customer).json()
    api.wait_for_verdict(owned["id"], headers["partner"])
    competing = api.submit(headers["marketplace"], [listing_id], customer=customer).json()
    case_ref = api.wait_for_verdict(competing["id"], headers["marketplace"])["case_ref"]
    assert case_ref, "the overlapping registration should have opened a case"
    return {"headers": headers, "listing": listing_id, "deal": owned["id"], "case": case_ref}


WRITE = {"anonymous": 401, "partner": 403, "other_partner": 403, "marketplace": 403, "sales": 403}
DESK_ONLY = {"anonymous": 401, "partner": 403, "other_partner": 403, "marketplace": 403, "sales": 403}

# (name, service, method, path, body, {role: expected status}); roles missing from a row must not get a
# 401, 403, 404 or 5xx (they are allowed: the exact success or state-conflict code is the endpoint's business).
MATRIX = [
    ("search listings", "catalog", "GET", "/v1/listings", None, {}),
    ("read listing", "catalog", "GET", "/v1/listings/{listing}", None, {}),
    ("create listing", "catalog", "POST", "/v1/listings", {"title": "x"}, {**WRITE, "desk": 403}),
    ("patch listing", "catalog", "PATCH", "/v1/listings/{listing}", {"title": "x"}, {**WRITE, "desk": 403}),
    ("publish listing", "catalog", "POST", "/v1/listings/{listing}/publish", None, {**WRITE, "desk": 403}),
    ("retire listing", "catalog", "POST", "/v1/listings/{listing}/retire", None, {**WRITE, "desk": 403}),
    ("list deals", "deals", "GET", "/v1/deals", None, {"anonymous": 401}),
    ("submit deal", "deals", "POST", "/v1/deals", {"customer": {}}, {"anonymous": 401, "desk": 403, "admin": 403}),
    ("read deal", "deals", "GET", "/v1/deals/{deal}", None,
     {"anonymous": 401, "other_partner": 404, "marketplace": 404, "sales": 404}),
    ("withdraw deal", "deals", "POST", "/v1/deals/{deal}/withdraw", None,
     {"anonymous": 401, "other_partner": 404, "marketplace": 404, "sales": 404, "desk": 403}),
    ("extend deal", "deals", "POST", "/v1/deals/{deal}/extend", None,
     {"anonymous": 401, "other_partner": 404, "marketplace": 404, "sales": 404, "desk": 403, "admin": 403}),
    ("close deal", "deals", "POST", "/v1/deals/{deal}/close", {"outcome": "won"},
     {"anonymous": 401, "other_partner": 404, "marketplace": 404, "sales": 404, "desk": 403, "admin": 403}),
    ("erase deal", "deals", "POST", "/v1/deals/{deal}/erase", None,
     {"anonymous": 401, "partner": 403, "other_partner": 403, "marketplace": 403, "sales": 403, "desk": 403}),
    ("pre-check", "deals", "POST", "/v1/deals/check", {"customer": {"name": "x", "country": "DE"}, "products": []},
     {"anonymous": 401, "desk": 403, "admin": 403}),
    ("queues", "conflict", "GET", "/v1/queues", None, DESK_ONLY),
    ("list cases", "conflict", "GET", "/v1/cases", None, DESK_ONLY),
    ("read case", "conflict", "GET", "/v1/cases/{case}", None, DESK_ONLY),
    ("claim case", "conflict", "POST", "/v1/cases/{case}/claim", None, DESK_ONLY),
    ("resolve case", "conflict", "POST", "/v1/cases/{case}/resolve", {"decision": "dismiss", "note": "x"},
     DESK_ONLY),
    ("desk page", "conflict", "GET", "/desk", None, {}),
    # issue 18: partner profiles and leads (deals), territories and the lead board (conflict)
    ("set partner profile", "deals", "PUT", "/v1/partners/matrix-partner",
     {"tier": "gold", "countries": ["DE"], "channels": ["reseller"], "lead_capacity": 1}, {**WRITE, "desk": 403}),
    ("read a partner profile", "deals", "GET", "/v1/partners/matrix-partner", None,
     {"anonymous": 401, "partner": 404, "other_partner": 404, "marketplace": 404, "sales": 403}),
    ("create lead", "deals", "POST", "/v1/leads", {"customer": {}},
     {"anonymous": 401, "partner": 403, "other_partner": 403, "marketplace": 403, "desk": 403}),
    ("list leads", "deals", "GET", "/v1/leads", None, {"anonymous": 401}),
    ("lead analytics", "deals", "GET", "/v1/leads/analytics", None,
     {"anonymous": 401, "partner": 403, "other_partner": 403, "marketplace": 403}),
    ("set territory", "conflict", "PUT", "/v1/territories/matrix-territory", {"owner": "direct", "countries": []},
     {**DESK_ONLY, "desk": 403}),
    ("list territories", "conflict", "GET", "/v1/territories", None, DESK_ONLY),
    ("lead board", "conflict", "GET", "/v1/leads", None, DESK_ONLY),
]
# Mutating rows run last in the table so that reads see the world intact; a role's row order is kept.
CELLS = [(row, role) for row in MATRIX for role in ROLES
         if not (row[2] == "POST" and row[3].endswith(("/withdraw", "/retire", "/resolve")) and role == "admin")]


@pytest.mark.parametrize("row, role", CELLS, ids=[f"{row[0]}-{role}" for row, role in CELLS])
def test_authorization_matrix(api, world, row, role):
    name, service, method, path, body, expected = row
    url_path = path.format(**world)
    response = api.call(method, service, url_path, as_=world["headers"][role],
                        **({"json": body} if body is not None else {}))
    if role in expected:
        assert response.status_code == expected[role], f"{name} as {role}: {response.status_code} {response.text}"
    else:
        assert response.status_code not in (401, 403, 404) and response.status_code < 500, \
            f"{name} as {role} should be allowed: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert "Traceback" not in response.text


def _tampered_tokens(api) -> dict[str, str]:
    secret = api.tokens._secret
    now = dt.datetime.now(dt.UTC)
    base = {"sub": "partner:t", "role": "partner", "partner_id": "t", "iss": "dealgate",
            "exp": now + dt.timedelta(hours=1)}
    genuine = jwt.encode(base, secret, algorithm="HS256")
    head, payload, signature = genuine.split(".")

    def swapped(**changes) -> str:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims.update(changes)
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return ".".join([head, forged, signature])

    return {
        "expired": jwt.encode({**base, "exp": now - dt.timedelta(minutes=1)}, secret, algorithm="HS256"),
        "wrong signature": jwt.encode(base, "not-the-secret-0123456789abcdef0123456789", algorithm="HS256"),
        "alg none": jwt.encode({**base, "exp": int((now + dt.timedelta(hours=1)).timestamp())}, None,
                               algorithm="none"),
        "role altered": swapped(role="admin"),
        "partner altered": swapped(partner_id="someone-else"),
        "garbage": "a.b.c",
    }


@pytest.mark.parametrize("kind", ["expired", "wrong signature", "alg none", "role altered", "partner altered",
                                  "garbage"])
def test_tampered_tokens_answer_401_everywhere(api, kind):
    token = _tampered_tokens(api)[kind]
    for service, path in (("deals", "/v1/deals"), ("conflict", "/v1/queues"), ("catalog", "/v1/listings")):
        response = api.call("GET", service, path, as_={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, f"{kind} on {service}: {response.status_code}"
        assert response.headers["Content-Type"].startswith("application/problem+json")


HOSTILE = ["' OR '1'='1", "1; DROP TABLE registrations; --", "../../../../etc/passwd", "<script>alert(1)</script>",
           "%00", "${jndi:ldap://x}", "\u202e\u0000", "a" * 5000, "{{7*7}}"]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_in_queries_filters_and_ids_are_harmless(api, world, value):
    headers = world["headers"]
    attempts = [
        ("catalog", "GET", "/v1/listings", {"params": {"q": value}}),
        ("catalog", "GET", "/v1/listings", {"params": {"category": value, "cursor": value}}),
        ("catalog", "GET", f"/v1/listings/{value}", {}),
        ("deals", "GET", "/v1/deals", {"params": {"status": value, "cursor": value}}),
        ("deals", "GET", f"/v1/deals/{value}", {}),
        ("conflict", "GET", "/v1/cases", {"params": {"queue": value, "status": value}}),
        ("conflict", "GET", f"/v1/cases/{value}", {}),
    ]
    for service, method, path, kwargs in attempts:
        role = "admin" if service == "catalog" else ("partner" if service == "deals" else "desk")
        response = api.call(method, service, path, as_=headers[role], **kwargs)
        assert response.status_code in (200, 400, 404, 414, 422), f"{path} {kwargs}: {response.status_code}"
        assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    # and the data is still there
    assert api.call("GET", "deals", f"/v1/deals/{world['deal']}", as_=headers["partner"]).status_code == 200


@pytest.mark.parametrize("topic", [CATALOG_LISTINGS, DEALS_REGISTRATIONS, CONFLICT_CASES])
def test_a_poison_event_lands_in_the_dlq_and_the_flow_goes_on(stack, api, topic):
    bus = KafkaBus(stack.kafka.bootstrap_servers, client_id="poison-test")
    marker = uuid.uuid4().hex
    # A well-formed envelope whose data its consumer cannot apply, and a message that is not even JSON.
    event_type, data = {
        CATALOG_LISTINGS: ("listing.published", {"status": "published", "marker": marker}),
        DEALS_REGISTRATIONS: ("deal.submitted", {"status": "submitted", "marker": marker}),
        CONFLICT_CASES: ("case.opened", {"id": marker, "registrations": [{"marker": marker}]}),
    }[topic]
    poison = json.dumps({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/test", "type": event_type,
                         "subject": marker, "time": "2026-01-01T00:00:00Z", "datacontenttype": "application/json",
                         "data": data}).encode()
    publisher = bus.publisher()
    publisher.publish([OutgoingMessage(topic, marker, poison), OutgoingMessage(topic, marker, b"\x00not json")])
    publisher.close()

    # Every service that consumes the topic dead-letters both messages on its own (catalog listings: two).
    consumers = {CATALOG_LISTINGS: {"deals", "conflict"}, DEALS_REGISTRATIONS: {"conflict"},
                 CONFLICT_CASES: {"deals"}}[topic]
    expected = sorted(2 * list(consumers))
    if topic == DEALS_REGISTRATIONS:
        # The webhook worker reads this topic too; deal.submitted is nothing it acts on, so of the two only the
        # message that is not even JSON reaches the DLQ from it.
        expected = sorted(expected + ["deals-webhooks"])
    deadline = time.monotonic() + 60
    dead = []
    while time.monotonic() < deadline:
        dead = [r for r in read_all(stack.kafka.bootstrap_servers, dlq_name(topic), 0, timeout_s=2)
                if r.key and r.key.decode() == marker]
        if len(dead) >= len(expected):
            break
    by_consumer = sorted(dict(r.headers)["dlq-consumer"].decode() for r in dead)
    assert by_consumer == expected, f"the poison messages should reach {dlq_name(topic)} from each of " \
                                    f"{sorted(consumers)}, found {by_consumer}"
    assert all(dict(r.headers).get("dlq-error") for r in dead)

    # The DLQ depth shows in /metrics (every service reports every DLQ).
    import re

    def dlq_depth() -> float:
        metrics = api.call("GET", "conflict", "/metrics").text
        found = re.search(r'dealgate_dlq_depth\{topic="' + re.escape(dlq_name(topic)) + r'"\} (\S+)', metrics)
        return float(found.group(1)) if found else 0.0

    deadline = time.monotonic() + 20  # the gauge is cached for a few seconds per scrape
    while dlq_depth() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert dlq_depth() >= 2
    metrics = api.call("GET", "conflict", "/metrics").text
    assert "dealgate_consumer_lag" in metrics

    # The consumers moved on: a fresh registration still gets its verdict.
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id=f"after-poison-{marker[:6]}")
    deal = api.submit(partner, [listing_id]).json()
    assert api.wait_for_verdict(deal["id"], partner)["status"] == "approved"
