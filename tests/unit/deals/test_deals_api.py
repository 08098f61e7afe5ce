"""The deals HTTP API on the in-memory unit of work: validation, status codes, idempotency and limits."""
import dataclasses
import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.deals.app import create_app
from services.deals.bootstrap import Deals
from services.deals.domain.policy import DealPolicy
from services.deals.limits import DealLimits, LocalRateLimiter
from services.deals.settings import DealsSettings
from shared.auth import TokenService
from shared.bus import InMemoryBus
from tests.unit.deals.fakes import FakeDealsUnitOfWork, deal_fields, listing, unique

SECRET = "unit-test-secret-0123456789abcdef0123456789"
DEFAULT_LIMITS = DealLimits()


@pytest.fixture
def uow():
    return FakeDealsUnitOfWork()


def make_client(uow, *, limits=DEFAULT_LIMITS):
    settings = DealsSettings.from_env(env={}, jwt_secret=SECRET)
    deals = Deals(settings=settings, engine=sa.create_engine("sqlite://"), bus=InMemoryBus(),
                  tokens=TokenService(SECRET), policy=DealPolicy(), limits=limits,
                  request_limiter=LocalRateLimiter(limits.requests_per_minute), uow_factory=lambda: uow)
    return create_app({"SETTINGS": settings, "TESTING": True}, deals=deals).test_client()


@pytest.fixture
def client(uow):
    return make_client(uow)


def bearer(role="partner", **claims) -> dict:
    if role in ("partner", "marketplace"):
        claims.setdefault("partner_id", unique(role))
    return {"Authorization": "Bearer " + TokenService(SECRET).issue(role, **claims)}


@pytest.fixture
def product(uow) -> str:
    document = listing(regions=("NA", "EMEA", "APAC", "LATAM"))
    uow.catalog.upsert(document)
    return document["id"]


def test_submit_answers_201_with_location_and_the_channel_from_the_token(client, product):
    who = bearer("partner", partner_id=unique("p"), channel="msp")
    response = client.post("/v1/deals", json=deal_fields([product]), headers=who)
    assert response.status_code == 201, response.json
    assert response.headers["Location"] == f"/v1/deals/{response.json['id']}"
    assert response.json["channel"] == "msp" and response.json["submitted_at"].endswith("Z")


@pytest.mark.parametrize("pasted", ["https://www.acme-corp.com/", "ACME-CORP.COM", "www.acme-corp.com/about",
                                    "http://acme-corp.com:8080"])
def test_the_domain_is_kept_as_typed_with_its_normalised_form(client, product, pasted):
    fields = deal_fields([product], customer={"name": "Acme Corp", "country": "us", "domain": pasted})
    response = client.post("/v1/deals", json=fields, headers=bearer())
    assert response.status_code == 201, response.json
    assert response.json["customer"]["domain"] == pasted
    assert response.json["customer"]["domain_normalised"] == "acme-corp.com"
    assert response.json["customer"]["country"] == "US"


def _with(product, path: str, value):
    """A valid body with one field (dotted path) replaced; value None removes it."""
    body = deal_fields([product], contact={"name": "Jo", "email": "jo@acme.com"})
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize("path, value, field", [
    ("customer.name", None, "customer.name"),
    ("customer.name", "   ", "customer.name"),
    ("customer.name", "x" * 201, "customer.name"),
    ("customer.name", "Acme\x1bLtd", "customer.name"),
    ("customer.name", "Acme \ud800", "customer.name"),
    ("customer.country", "UK", "customer.country"),
    ("customer.country", "GBR", "customer.country"),
    ("customer.country", 44, "customer.country"),
    ("customer.domain", "acme", "customer.domain"),
    ("customer.domain", "http://[acme", "customer.domain"),
    ("customer.domain", "co.uk", "customer.domain"),
    ("customer.duns", "12345", "customer.duns"),
    ("customer.tax_id", "GB<script>", "customer.tax_id"),
    ("contact.email", "not-an-email", "contact.email"),
    ("products", [], "products"),
    ("products", ["p"] * 21, "products"),
    ("products", "one-product", "products"),
    ("products", [""], "products.0"),
    ("amount.amount", "-5", "amount.amount"),
    ("amount.amount", "0", "amount.amount"),
    ("amount.amount", "NaN", "amount.amount"),
    ("amount.amount", "1e400", "amount.amount"),
    ("amount.amount", "12.34567", "amount.amount"),
    ("amount.amount", "ten", "amount.amount"),
    ("amount.amount", True, "amount.amount"),
    ("amount.currency", "XYZ", "amount.currency"),
    ("amount", "25000 USD", "amount"),
    ("expected_close", "2001-01-01", "expected_close"),
    ("expected_close", "2999-01-01", "expected_close"),
    ("expected_close", "tomorrow", "expected_close"),
    ("notes", "n" * 2001, "notes"),
    ("opportunity_name", ["list"], "opportunity_name"),
    ("partner_id", "someone-else", "partner_id"),
])
def test_invalid_fields_answer_422_with_field_errors(client, product, path, value, field):
    response = client.post("/v1/deals", json=_with(product, path, value), headers=bearer())
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    errors = response.json["errors"]
    assert any(name == field or name.startswith(field + "._") for name in errors), errors


def test_nul_characters_anywhere_are_a_client_error_not_a_500(client, product):
    body = _with(product, "customer.name", "Acme\x00Ltd")
    assert client.post("/v1/deals", json=body, headers=bearer()).status_code in (400, 422)
    assert client.get("/v1/deals/%00", headers=bearer()).status_code in (400, 404)
    assert client.get("/v1/deals?cursor=%00", headers=bearer()).status_code in (400, 422)


def test_a_duplicate_product_and_an_unpublished_one_are_422(client, uow, product):
    assert client.post("/v1/deals", json=deal_fields([product, product]), headers=bearer()).status_code == 422
    draft = listing(status="draft")
    uow.catalog.upsert(draft)
    response = client.post("/v1/deals", json=deal_fields([product, draft["id"]]), headers=bearer())
    assert response.status_code == 422 and "products.1" in response.json["errors"]


@pytest.mark.parametrize("headers, body, status", [
    ({}, None, 401),
    ({"Content-Type": "text/plain"}, "hello", 415),
    ({"Content-Type": "application/json"}, "{not json", 400),
    ({"Content-Type": "application/json"}, "[1, 2]", 422),
])
def test_malformed_requests_get_their_problem_status(client, headers, body, status):
    auth = {} if status == 401 else bearer()
    response = client.post("/v1/deals", data=body, headers={**auth, **headers})
    assert response.status_code == status and response.content_type == "application/problem+json"


def test_desk_may_read_but_not_submit(client, product):
    assert client.post("/v1/deals", json=deal_fields([product]), headers=bearer("desk")).status_code == 403
    assert client.get("/v1/deals", headers=bearer("desk")).status_code == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                             st.sampled_from(["customer", "name", "country", "domain", "products", "amount",
                                              "currency", "expected_close", "contact", "email", "duns", "x"]),
                             inner, max_size=6), max_leaves=20))
def test_no_body_produces_a_500(client, body):
    for path in ("/v1/deals", "/v1/deals/check"):
        response = client.post(path, data=json.dumps(body), content_type="application/json", headers=bearer())
        assert response.status_code in (400, 422), (body, response.json)


# --- idempotency over HTTP --------------------------------------------------------------------------------


def test_idempotent_replay_is_byte_identical_and_another_body_is_409(client, uow, product):
    who, key = bearer(), {"Idempotency-Key": unique("key")}
    body = deal_fields([product])
    first = client.post("/v1/deals", json=body, headers={**who, **key})
    again = client.post("/v1/deals", data=json.dumps(body, indent=2), content_type="application/json",
                        headers={**who, **key})
    assert first.status_code == again.status_code == 201
    assert again.data == first.data and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(uow.events_of_type("deal.submitted")) == 1
    other = client.post("/v1/deals", json={**body, "notes": "another body"}, headers={**who, **key})
    assert other.status_code == 409 and other.content_type == "application/problem+json"


def test_validation_failures_are_not_stored_against_the_key(client, product):
    who, key = bearer(), {"Idempotency-Key": unique("key")}
    assert client.post("/v1/deals", json=deal_fields(["unknown-product"]), headers={**who, **key}).status_code == 422
    assert client.post("/v1/deals", json=deal_fields([product]), headers={**who, **key}).status_code == 201


def test_a_malformed_idempotency_key_is_422(client, product):
    response = client.post("/v1/deals", json=deal_fields([product]), headers={**bearer(), "Idempotency-Key": "a b"})
    assert response.status_code == 422 and "Idempotency-Key" in response.json["errors"]


# --- limits, reading, editing --------------------------------------------------------------------------------


def test_a_partner_over_its_rate_limit_gets_429_with_retry_after(uow, product):
    client = make_client(uow, limits=dataclasses.replace(DealLimits(), requests_per_minute=2))
    who = bearer()
    statuses = [client.get("/v1/deals", headers=who).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 429
    limited = client.get("/v1/deals", headers=who)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.content_type == "application/problem+json"
    assert client.get("/v1/deals", headers=bearer()).status_code == 200  # another partner is unaffected


def test_precheck_answers_and_is_limited_per_partner(uow, product):
    client = make_client(uow, limits=dataclasses.replace(DealLimits(), checks_per_minute=1))
    body = {"customer": {"name": "Acme", "country": "GB"}, "products": [product]}
    who = bearer()
    answer = client.post("/v1/deals/check", json=body, headers=who)
    assert answer.status_code == 200 and answer.json["result"] == "available" and answer.json["reason"]
    limited = client.post("/v1/deals/check", json=body, headers=who)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("deal_id", ["nope", "%E2%98%83", "1" * 300, "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_ids_are_404(client, deal_id):
    for method, suffix in (("GET", ""), ("PATCH", ""), ("POST", "/withdraw"), ("POST", "/extend")):
        kwargs = {"json": {"notes": "x"}} if method == "PATCH" else {}
        response = client.open(f"/v1/deals/{deal_id}{suffix}", method=method, headers=bearer(), **kwargs)
        assert response.status_code == 404, (method, suffix, response.json)


def test_pages_follow_the_cursor_and_a_forged_cursor_is_422(client, product):
    who = bearer()
    ids = {client.post("/v1/deals", json=deal_fields([product]), headers=who).json["id"] for _ in range(3)}
    first = client.get("/v1/deals?limit=2", headers=who).json
    second = client.get(f"/v1/deals?limit=2&cursor={first['next_cursor']}", headers=who).json
    assert {d["id"] for d in first["items"] + second["items"]} == ids and second["next_cursor"] is None
    assert client.get("/v1/deals?cursor=forged", headers=who).status_code == 422
    assert client.get("/v1/deals?status=pending", headers=who).status_code == 422


def test_patch_with_a_stale_if_match_is_412_and_a_current_one_applies(client, product):
    who = bearer()
    created = client.post("/v1/deals", json=deal_fields([product]), headers=who)
    url = created.headers["Location"]
    stale = client.patch(url, json={"notes": "x"}, headers={**who, "If-Match": '"99"'})
    assert stale.status_code == 412
    fresh = client.patch(url, json={"notes": "x"}, headers={**who, "If-Match": created.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.json["notes"] == "x" and fresh.headers["ETag"] == '"2"'
    assert client.patch(url, json={}, headers=who).status_code == 422


def test_closing_a_registration_that_is_not_approved_is_409_with_a_reason(client, product):
    who = bearer()
    url = client.post("/v1/deals", json=deal_fields([product]), headers=who).headers["Location"]
    response = client.post(url + "/close", json={"outcome": "won"}, headers=who)
    assert response.status_code == 409 and "approved" in response.json["detail"]
    assert client.post(url + "/close", json={"outcome": "draw"}, headers=who).status_code == 422
