"""Requests that must not hurt (issue 11), over real HTTP through gunicorn to PostgreSQL: what the unit tests
show on SQLite, here where the 500s were measured (a varchar(64) correlation id column, text that PostgreSQL
refuses)."""
from __future__ import annotations

import json
import re
import uuid

import pytest

FRESH_ID = re.compile(r"^[0-9a-f]{32}$")
JSON = {"Content-Type": "application/json"}


def listing_body() -> dict:
    return {"title": f"Hostile {uuid.uuid4().hex[:6]}", "summary": "Test listing", "vendor": "Dealgate",
            "category": "analytics", "tags": ["e2e"],
            "offers": [{"name": "Standard", "channels": ["reseller"], "regions": ["NA"],
                        "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}]}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_an_overlong_correlation_id_is_replaced_and_the_write_and_its_event_go_through(api):
    admin = api.headers("admin")
    listing = api.call("POST", "catalog", "/v1/listings", as_=admin, json=listing_body()).json()
    published = api.call("POST", "catalog", f"/v1/listings/{listing['id']}/publish",
                         as_={**admin, "X-Correlation-ID": "c" * 65})  # its outbox row stores the id
    assert published.status_code == 200, published.text
    assert FRESH_ID.match(published.headers["X-Correlation-ID"])
    kept = api.call("GET", "catalog", "/healthz", as_={"X-Correlation-ID": "trace-1:a.b_c"})
    assert kept.headers["X-Correlation-ID"] == "trace-1:a.b_c"


@pytest.mark.parametrize("service", ["catalog", "deals", "conflict"])
def test_a_deeply_nested_body_is_400_even_without_a_token(api, service):
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/healthz", "/nowhere"):
        assert_problem(api.call("POST", service, path, as_=JSON, data=deep), 400)
    writer = {"catalog": "admin", "deals": "sales", "conflict": "desk"}[service]
    path = {"catalog": "/v1/listings", "deals": "/v1/deals", "conflict": "/v1/cases/x/resolve"}[service]
    assert_problem(api.call("POST", service, path, as_={**api.headers(writer), **JSON}, data=deep), 400)


def test_a_lone_surrogate_in_a_listing_title_is_422_not_a_database_error(api):
    body = listing_body()
    body["title"] = "Gateway \ud800"
    response = api.call("POST", "catalog", "/v1/listings", as_={**api.headers("admin"), **JSON},
                        data=json.dumps(body))
    assert "title" in assert_problem(response, 422)["errors"]


# Header values travel as bytes read as Latin-1: '"²"' goes out as the byte B2, the UTF-8 spelling as C2 B2.
@pytest.mark.parametrize("if_match", ['"²"', '"²"'.encode().decode("latin-1"), '"' + "9" * 5000 + '"', 'W/"1"'])
def test_an_if_match_that_names_no_version_is_412(api, if_match):
    admin = api.headers("admin")
    created = api.call("POST", "catalog", "/v1/listings", as_=admin, json=listing_body())
    response = api.call("PATCH", "catalog", f"/v1/listings/{created.json()['id']}",
                        as_={**admin, "If-Match": if_match}, json={"title": "x"})
    assert_problem(response, 412)


def test_a_deal_takes_an_if_match_list_naming_its_version(api):
    partner = api.headers("partner", partner_id=f"hostile-{uuid.uuid4().hex[:6]}")
    deal = api.submit(partner, [api.published_listing()])
    assert deal.status_code == 201, deal.text
    url = f"/v1/deals/{deal.json()['id']}"
    current = api.call("GET", "deals", url, as_=partner).headers["ETag"]
    stale = api.call("PATCH", "deals", url, as_={**partner, "If-Match": '"999", W/' + current}, json={"notes": "x"})
    assert_problem(stale, 412)
    fresh = api.call("PATCH", "deals", url, as_={**partner, "If-Match": f'"999", {current}'}, json={"notes": "x"})
    assert fresh.status_code == 200, fresh.text
