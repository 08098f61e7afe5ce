"""The conflict story end to end over HTTP and Kafka: two channels, one customer, one case; the desk decides."""
import time

from tests.conftest import unique


def wait_for(check, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_reseller_and_marketplace_overlap_in_one_case_the_direct_deal_is_approved_and_the_desk_awards(api):
    product, other_product = api.published_listing(), api.published_listing()
    domain = f"{unique('harbor')}.co.uk"
    reseller = api.headers("partner", partner_id=unique("reseller"))
    marketplace = api.headers("marketplace", partner_id=unique("market"))
    sales = api.headers("sales")
    desk = api.headers("desk", sub=unique("desk"))

    first = api.submit(reseller, [product], customer={"name": "Harbor & Lighthouse Holdings Ltd.",
                                                      "domain": f"https://www.{domain}/about", "country": "GB"})
    assert first.status_code == 201, first.text
    second = api.submit(marketplace, [product], customer={"name": "HARBOR AND LIGHTHOUSE HOLDINGS",
                                                          "domain": domain, "country": "gb"})
    direct = api.submit(sales, [other_product], customer={"name": "Harbor and Lighthouse", "domain": domain,
                                                          "country": "GB"})
    first, second, direct = first.json(), second.json(), direct.json()

    in_review = api.wait_for_verdict(second["id"], marketplace)
    assert in_review["status"] == "in_conflict" and in_review["case_ref"], in_review
    assert api.wait_for_verdict(direct["id"], sales)["status"] == "approved", "another product: no conflict"
    case = api.call("GET", "conflict", f"/v1/cases/{in_review['case_ref']}", as_=desk).json()
    assert {r["deal_id"] for r in case["registrations"]} == {first["id"], second["id"]}
    assert case["queue"] == "marketplace-vs-reseller" and case["sla_due_at"] and case["sla_breached"] is False
    evidence = case["evidence"][0]
    assert evidence["shared_products"] == [product] and evidence["score"] >= 0.9
    assert any(s["kind"] == "domain" and s["value"] == domain for s in evidence["signals"])
    assert case["recommendation"]["winner"] == first["id"]
    queues = {q["name"]: q for q in api.call("GET", "conflict", "/v1/queues", as_=desk).json()}
    assert queues["marketplace-vs-reseller"]["open"] >= 1

    assert api.call("POST", "conflict", f"/v1/cases/{case['id']}/claim", as_=desk).status_code == 200
    decided = api.call("POST", "conflict", f"/v1/cases/{case['id']}/resolve", as_=desk,
                       json={"decision": "award", "winner": first["id"], "note": "first with evidence"})
    assert decided.status_code == 200, decided.text

    winner = wait_for(lambda: (d := api.call("GET", "deals", f"/v1/deals/{first['id']}", as_=reseller).json())
                      ["status"] == "approved" and d)
    loser = wait_for(lambda: (d := api.call("GET", "deals", f"/v1/deals/{second['id']}", as_=marketplace).json())
                     ["status"] == "rejected" and d)
    assert winner and loser, "the decision reached deals"
    assert "reseller" not in loser["reason"] and first["partner_id"] not in str(loser)
