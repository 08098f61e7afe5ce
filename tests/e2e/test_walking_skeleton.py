"""The thin path through all three services, over HTTP and Kafka: listing -> deals -> conflict -> deals."""
import time


def test_a_published_listing_reaches_deals_and_a_registration_gets_its_verdict_within_a_second(api):
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id="skeleton-partner")

    submitted = api.submit(partner, [listing_id])
    assert submitted.status_code == 201, submitted.text
    deal = submitted.json()
    assert deal["status"] == "submitted" and deal["partner_id"] == "skeleton-partner"
    assert deal["channel"] == "reseller" and submitted.headers["Location"] == f"/v1/deals/{deal['id']}"

    started = time.monotonic()
    decided = api.wait_for_verdict(deal["id"], partner)
    elapsed = time.monotonic() - started
    assert decided["status"] == "approved", decided
    assert decided["protection_until"] and decided["reason"]
    assert [h["status"] for h in decided["history"]] == ["submitted", "approved"]
    assert elapsed < 1.0, f"verdict took {elapsed:.3f}s"


def test_an_overlapping_registration_from_another_channel_goes_into_review(api):
    listing_id = api.published_listing()
    customer = {"name": "Skeleton Overlap GmbH", "domain": "skeleton-overlap.de", "country": "DE"}
    reseller = api.headers("partner", partner_id="skel-reseller")
    marketplace = api.headers("marketplace", partner_id="skel-market")
    first = api.submit(reseller, [listing_id], customer=customer).json()
    assert api.wait_for_verdict(first["id"], reseller)["status"] == "approved"

    second = api.submit(marketplace, [listing_id], customer=customer).json()
    decided = api.wait_for_verdict(second["id"], marketplace)
    assert decided["status"] == "in_conflict" and decided["case_ref"]
    assert "skel-reseller" not in str(decided), "a partner never learns who holds the competing claim"

    case = api.call("GET", "conflict", f"/v1/cases/{decided['case_ref']}", as_=api.headers("desk")).json()
    assert {r["deal_id"] for r in case["registrations"]} == {first["id"], second["id"]}


def test_every_service_is_ready_and_documents_itself(api):
    for service in ("catalog", "deals", "conflict"):
        ready = api.call("GET", service, "/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
        assert api.call("GET", service, "/healthz").json()["detail"] == {"kafka": "ok"}
        assert api.call("GET", service, "/openapi.json").json()["openapi"].startswith("3.")
        metrics = api.call("GET", service, "/metrics").text
        assert "dealgate_http_requests_total" in metrics and "dealgate_kafka_up 1.0" in metrics
