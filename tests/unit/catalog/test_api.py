"""The listings HTTP API on the embedded SQLite store: authorisation, conditional requests, caching headers, errors."""
import uuid

import pytest

from services.catalog.app import create_app
from services.catalog.bootstrap import MIGRATIONS
from services.catalog.settings import CatalogSettings
from shared.auth import TokenService
from shared.db import upgrade_to_head


@pytest.fixture
def settings(tmp_path):
    return CatalogSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)})


@pytest.fixture
def client(settings):
    upgrade_to_head(settings.database_url, MIGRATIONS)
    return create_app({"SETTINGS": settings}).test_client()


@pytest.fixture
def token(settings):
    tokens = TokenService(settings.jwt_secret)
    return lambda role, **claims: {"Authorization": "Bearer " + tokens.issue(role, **claims)}


def body(**overrides):
    return {"title": f"Gateway {uuid.uuid4().hex[:8]}", "summary": "Secure access", "vendor": "Northwind",
            "category": "security", "tags": ["vpn"],
            "offers": [{"name": "Std", "channels": ["reseller"], "regions": ["NA"],
                        "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}],
            **overrides}


def published(client, admin, **overrides) -> dict:
    created = client.post("/v1/listings", json=body(**overrides), headers=admin)
    assert created.status_code == 201, created.json
    response = client.post(f"/v1/listings/{created.json['id']}/publish", headers=admin)
    assert response.status_code == 200
    return response.json


def test_only_admins_write(client, token):
    partner = token("partner", partner_id="acme")
    assert client.post("/v1/listings", json=body(), headers=partner).status_code == 403
    assert client.post("/v1/listings", json=body()).status_code == 401
    listing = published(client, token("admin"))
    assert client.post(f"/v1/listings/{listing['id']}/retire", headers=partner).status_code == 403
    assert client.patch(f"/v1/listings/{listing['id']}", json={"title": "x"},
                        headers={**partner, "If-Match": '"2"'}).status_code == 403


def test_a_draft_is_invisible_until_published(client, token):
    admin = token("admin")
    draft = client.post("/v1/listings", json=body(), headers=admin).json
    assert client.get(f"/v1/listings/{draft['id']}").status_code == 404
    assert client.get(f"/v1/listings/{draft['id']}", headers=admin).status_code == 200
    client.post(f"/v1/listings/{draft['id']}/publish", headers=admin)
    assert client.get(f"/v1/listings/{draft['id']}").json["status"] == "published"


def test_a_repeated_search_answers_304_until_the_catalog_changes(client, token):
    admin = token("admin")
    published(client, admin, title="Quasar Backup Suite")
    first = client.get("/v1/listings?q=quasar")
    assert first.status_code == 200 and [i["title"] for i in first.json["items"]] == ["Quasar Backup Suite"]
    assert first.headers["Cache-Control"].startswith("public") and first.headers["Vary"] == "Authorization"
    again = client.get("/v1/listings?q=quasar", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"] and not again.data
    published(client, admin, title="Quasar Backup Pro")
    changed = client.get("/v1/listings?q=quasar", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and len(changed.json["items"]) == 2


def test_revalidations_answered_before_flask_keep_headers_metrics_and_viewers_apart(client, token):
    """SearchRevalidation answers these in front of the app: same 304, same headers, counted the same way."""
    from shared.metrics import http_metrics

    admin, partner = token("admin"), token("partner", partner_id="acme")
    published(client, admin, title="Nimbus Relay")
    counted = http_metrics()[0].labels("catalog", "GET", "/v1/listings", 304)
    before = counted._value.get()
    anonymous = client.get("/v1/listings?q=nimbus&limit=5")
    again = client.get("/v1/listings?limit=5&q=nimbus",  # the same parameters in another order: the same page
                       headers={"If-None-Match": anonymous.headers["ETag"], "X-Correlation-ID": "trace-1"})
    assert again.status_code == 304 and again.headers["ETag"] == anonymous.headers["ETag"]
    assert again.headers["Cache-Control"].startswith("public") and again.headers["X-Correlation-ID"] == "trace-1"
    assert client.get("/v1/listings?q=nimbus&limit=5",
                      headers={"If-None-Match": anonymous.headers["ETag"]}).headers["X-Correlation-ID"]
    assert counted._value.get() == before + 2

    # A partner's view of offers differs from the public one: the anonymous ETag is not current for them.
    mine = client.get("/v1/listings?q=nimbus&limit=5", headers={**partner, "If-None-Match": anonymous.headers["ETag"]})
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "private, no-cache"
    revalidated = client.get("/v1/listings?q=nimbus&limit=5",
                             headers={**partner, "If-None-Match": mine.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.headers["Cache-Control"] == "private, no-cache"

    # Doubt goes to the app, which explains itself: a bad token is a 401 even with a current ETag.
    refused = client.get("/v1/listings?q=nimbus&limit=5", headers={"Authorization": "Bearer nonsense",
                                                                   "If-None-Match": mine.headers["ETag"]})
    assert refused.status_code == 401 and refused.content_type == "application/problem+json"


def test_a_page_already_rendered_is_served_before_flask_with_the_apps_headers(client, token):
    """The second identical search comes from the page cache in the middleware: same body and headers, counted."""
    from shared.metrics import http_metrics

    admin = token("admin")
    published(client, admin, title="Orbit Ledger")
    served = http_metrics()[0].labels("catalog", "GET", "/v1/listings", 200)
    first = client.get("/v1/listings?q=orbit&limit=3")
    before = served._value.get()
    import flask

    started = []

    def count(sender, **extra):
        started.append(1)

    with flask.request_started.connected_to(count, client.application):
        again = client.get("/v1/listings?limit=3&q=orbit", headers={"X-Correlation-ID": "trace-7"})
    assert again.status_code == 200 and again.data == first.data and not started, "Flask never saw it"
    assert again.headers["ETag"] == first.headers["ETag"] and again.content_type == "application/json"
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"] and again.headers["Vary"] == "Authorization"
    assert again.headers["X-Correlation-ID"] == "trace-7"
    assert served._value.get() == before + 1
    mine = client.get("/v1/listings?q=orbit&limit=3", headers=token("partner", partner_id="acme"))
    assert mine.headers["ETag"] != first.headers["ETag"] and mine.headers["Cache-Control"] == "private, no-cache"
    published(client, admin, title="Orbit Ledger Pro")
    assert len(client.get("/v1/listings?q=orbit&limit=3").json["items"]) == 2, "a new revision misses the cache"


def test_reads_with_a_token_are_private_to_the_caller(client, token):
    published(client, token("admin"))
    response = client.get("/v1/listings", headers=token("partner", partner_id="acme"))
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_one_listing_revalidates_by_etag(client, token):
    listing = published(client, token("admin"))
    first = client.get(f"/v1/listings/{listing['id']}")
    assert client.get(f"/v1/listings/{listing['id']}",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_patch_needs_a_current_if_match(client, token):
    admin = token("admin")
    listing = published(client, admin)
    url = f"/v1/listings/{listing['id']}"
    assert client.patch(url, json={"title": "New"}, headers=admin).status_code == 428
    assert client.patch(url, json={"title": "New"}, headers={**admin, "If-Match": "*"}).status_code == 428
    assert client.patch(url, json={"title": "New"}, headers={**admin, "If-Match": '"1"'}).status_code == 412
    assert client.patch(url, json={"title": "New"}, headers={**admin, "If-Match": '"junk"'}).status_code == 412
    changed = client.patch(url, json={"title": "New"}, headers={**admin, "If-Match": '"2"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"3"'
    assert changed.json["offers"] == listing["offers"], "a patch leaves unmentioned fields alone"
    emptied = client.patch(url, json={"offers": []}, headers={**admin, "If-Match": '"3"'})
    assert emptied.status_code == 422 and "offers" in emptied.json["errors"]


def test_invalid_offers_answer_422_with_field_errors(client, token):
    response = client.post("/v1/listings", headers=token("admin"), json=body(offers=[
        {"name": "x", "channels": ["retail"], "regions": ["NA"], "visibility": "private",
         "pricing": {"model": "flat", "price": {"amount": 12.5, "currency": "usd"}}}]))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {"offers.0.channels.0", "offers.0.pricing.price.amount",
            "offers.0.pricing.price.currency"} <= set(response.json["errors"])


def test_state_conflicts_answer_409(client, token):
    admin = token("admin")
    empty = client.post("/v1/listings", json=body(offers=[]), headers=admin).json
    assert client.post(f"/v1/listings/{empty['id']}/publish", headers=admin).status_code == 409
    listing = published(client, admin)
    assert client.post(f"/v1/listings/{listing['id']}/publish", headers=admin).status_code == 409


def test_private_offers_are_shown_only_to_their_target(client, token):
    admin = token("admin")
    tag = uuid.uuid4().hex[:8]
    listing = published(client, admin, tags=[tag], offers=[
        body()["offers"][0],
        {"name": "Private", "channels": ["msp"], "regions": ["EMEA"], "visibility": "private", "private_to": "acme",
         "pricing": {"model": "flat", "price": {"amount": "1.00", "currency": "EUR"}}}])
    only_private = published(client, admin, tags=[tag], offers=[
        {"name": "Secret", "channels": ["reseller"], "regions": ["NA"], "visibility": "private",
         "private_to": "acme", "pricing": {"model": "flat", "price": {"amount": "1.00", "currency": "EUR"}}}])
    acme, globex = token("partner", partner_id="acme"), token("partner", partner_id="globex")

    def seen(headers, query=""):
        return {item["id"]: [o["name"] for o in item["offers"]]
                for item in client.get(f"/v1/listings?q={tag}{query}", headers=headers).json["items"]}

    assert seen({}) == seen(globex) == {listing["id"]: ["Std"]}
    assert seen(acme) == {listing["id"]: ["Std", "Private"], only_private["id"]: ["Secret"]}
    assert seen({}, "&channel=msp") == {}, "a channel reached only by someone else's private offer does not match"
    assert seen(acme, "&channel=msp&region=EMEA") == {listing["id"]: ["Std", "Private"]}
    assert client.get(f"/v1/listings/{only_private['id']}", headers=globex).status_code == 404
    assert client.get(f"/v1/listings/{only_private['id']}", headers=acme).status_code == 200


def test_admins_filter_by_status(client, token):
    admin = token("admin")
    tag = uuid.uuid4().hex[:8]
    client.post("/v1/listings", json=body(tags=[tag]), headers=admin)
    assert len(client.get(f"/v1/listings?q={tag}&status=draft", headers=admin).json["items"]) == 1
    assert client.get(f"/v1/listings?q={tag}&status=draft").json["items"] == []


def test_a_bad_cursor_is_a_validation_error(client):
    response = client.get("/v1/listings?cursor=not-a-cursor")
    assert response.status_code == 422 and "cursor" in response.json["errors"]


def test_openapi_documents_every_endpoint_and_its_errors(client):
    document = client.get("/openapi.json").json
    paths = document["paths"]
    assert {"/v1/listings", "/v1/listings/{listing_id}", "/v1/listings/{listing_id}/publish",
            "/v1/listings/{listing_id}/retire"} <= set(paths)
    assert {"200", "304", "422"} <= set(paths["/v1/listings"]["get"]["responses"])
    assert {"201", "401", "403", "422"} <= set(paths["/v1/listings"]["post"]["responses"])
    assert {"200", "412", "422", "428"} <= set(paths["/v1/listings/{listing_id}"]["patch"]["responses"])
    assert {"Listing", "Offer", "Pricing", "Money", "Problem"} <= set(document["components"]["schemas"])


def test_a_partner_is_refused_before_the_body_is_validated(client, token):
    response = client.post("/v1/listings", json={"title": ""}, headers=token("partner", partner_id="acme"))
    assert response.status_code == 403
