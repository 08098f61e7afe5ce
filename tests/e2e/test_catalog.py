"""The catalog as a new user meets it on a running stack: the demo catalog, search, caching, writes and Kafka."""
import uuid


def test_the_stack_starts_with_a_demo_catalog_across_categories_channels_and_regions(api):
    items = api.call("GET", "catalog", "/v1/listings", params={"limit": 200}).json()["items"]
    assert len(items) >= 25
    assert len({item["category"] for item in items}) >= 8
    offers = [offer for item in items for offer in item["offers"]]
    assert {c for offer in offers for c in offer["channels"]} == {"reseller", "distributor", "msp", "marketplace",
                                                                  "direct"}
    assert {r for offer in offers for r in offer["regions"]} == {"NA", "EMEA", "APAC", "LATAM"}
    assert {offer["pricing"]["model"] for offer in offers} == {"flat", "per_unit", "subscription"}
    assert all(offer["visibility"] == "public" for offer in offers), "anonymous readers see no private offer"


def test_seeding_again_adds_nothing(api):
    from deploy.seed_catalog import seed

    assert seed(api.stack.url("catalog"), api.tokens.issue("admin"), progress=lambda _: None) == 0


def test_create_publish_and_find_a_listing_then_revalidate_with_304(api):
    admin = api.headers("admin")
    word = "e2e" + uuid.uuid4().hex[:8]
    created = api.call("POST", "catalog", "/v1/listings", as_=admin, json={
        "title": f"{word} Secure Backup", "summary": "Immutable backups.", "vendor": "Vaultkeep",
        "category": "backup", "tags": ["backup"],
        "offers": [{"name": "Per user", "channels": ["reseller", "msp"], "regions": ["EMEA"],
                    "pricing": {"model": "subscription", "term_months": 12,
                                "price": {"amount": "24.00", "currency": "EUR"}}}]})
    assert created.status_code == 201 and created.headers["Location"].endswith(created.json()["id"])
    assert api.call("POST", "catalog", f"/v1/listings/{created.json()['id']}/publish", as_=admin).status_code == 200

    found = api.call("GET", "catalog", "/v1/listings", params={"q": word})
    assert [item["id"] for item in found.json()["items"]] == [created.json()["id"]]
    assert found.headers["ETag"] and "max-age" in found.headers["Cache-Control"]
    again = api.call("GET", "catalog", "/v1/listings", params={"q": word},
                     as_={"If-None-Match": found.headers["ETag"]})
    assert again.status_code == 304


def test_a_partner_token_cannot_write_and_invalid_offers_get_field_errors(api):
    partner = api.headers("partner", partner_id="e2e-partner")
    refused = api.call("POST", "catalog", "/v1/listings", as_=partner, json={"title": "x"})
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    invalid = api.call("POST", "catalog", "/v1/listings", as_=api.headers("admin"), json={
        "title": "Bad offer", "summary": "s", "vendor": "v", "category": "misc",
        "offers": [{"name": "x", "channels": ["retail"], "regions": ["MARS"],
                    "pricing": {"model": "flat", "price": {"amount": "ten", "currency": "XYZ"}}}]})
    assert invalid.status_code == 422
    assert {"offers.0.channels.0", "offers.0.regions.0", "offers.0.pricing.price.amount",
            "offers.0.pricing.price.currency"} <= set(invalid.json()["errors"])


def test_a_published_listing_reaches_the_deals_read_model_through_kafka(api):
    listing_id = api.published_listing(channels=("msp",))
    msp = api.headers("partner", partner_id="e2e-msp-" + uuid.uuid4().hex[:6], channel="msp")
    accepted = api.submit(msp, [listing_id])
    assert accepted.status_code == 201, accepted.text
    reseller = api.headers("partner", partner_id="e2e-res-" + uuid.uuid4().hex[:6])
    refused = api.submit(reseller, [listing_id], retry_until_known_s=0)
    assert refused.status_code == 422, "deals knows which channels the listing is offered to"
