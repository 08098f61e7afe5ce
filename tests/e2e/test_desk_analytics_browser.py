"""Channel analytics on the real stack: figures from registrations and desk decisions made through the APIs, the
same figures on /metrics, and the desk's Analytics view drawn in Chromium (a screenshot kept in the test's output).

Its customers are all in LATAM, a region no other end-to-end test registers in, so the figures are exact.
"""
import uuid
from urllib.parse import urlparse

from tests.conftest import unique
from tests.e2e.test_desk_browser import browser_page  # noqa: F401 - the Chromium page fixture

REGION = "LATAM"


def latam_listing(api) -> str:
    admin = api.headers("admin")
    listing = api.call("POST", "catalog", "/v1/listings", as_=admin, json={
        "title": f"Analytics Suite {uuid.uuid4().hex[:6]}", "summary": "For the analytics test", "vendor": "Dealgate",
        "category": "analytics", "tags": ["e2e"],
        "offers": [{"name": "Standard", "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                    "regions": [REGION],
                    "pricing": {"model": "flat", "price": {"amount": "1000.00", "currency": "USD"}}}]})
    assert listing.status_code == 201, listing.text
    listing_id = listing.json()["id"]
    assert api.call("POST", "catalog", f"/v1/listings/{listing_id}/publish", as_=admin).status_code == 200
    return listing_id


def collide(api, product, country, *who) -> list[dict]:
    """Each of `who` (token headers) registers one customer; returns the deals once the last has its verdict."""
    name = f"Analitica {unique('x')} S.A."
    customer = {"name": name, "domain": f"{unique('an')}.com.br", "country": country}
    deals = []
    for headers in who:
        response = api.submit(headers, [product], customer=customer)
        assert response.status_code == 201, response.text
        deals.append(response.json())
    api.wait_for_verdict(deals[-1]["id"], who[-1])
    return deals


def seed(api) -> dict:
    """BR: reseller vs direct, awarded to direct; MX: reseller vs distributor, all rejected; AR: marketplace vs
    reseller, left open; BR: a reseller alone, cleared."""
    product, desk = latam_listing(api), api.headers("desk", sub=unique("desk:analytics"))
    partner = lambda channel="reseller": api.headers("partner", partner_id=unique(channel), channel=channel)  # noqa: E731
    awarded = collide(api, product, "BR", partner(), api.headers("sales"))
    rejected = collide(api, product, "MX", partner(), partner("distributor"))
    left_open = collide(api, product, "AR", api.headers("marketplace", partner_id=unique("market")), partner())
    collide(api, product, "BR", partner())
    cases = {}
    for name, deals in {"awarded": awarded, "rejected": rejected, "open": left_open}.items():
        deal = api.call("GET", "deals", f"/v1/deals/{deals[-1]['id']}", as_=desk).json()
        assert deal["status"] == "in_conflict" and deal["case_ref"], deal
        cases[name] = deal["case_ref"]
    for case_id, decision in ((cases["awarded"], {"decision": "award", "winner": awarded[1]["id"]}),
                              (cases["rejected"], {"decision": "reject_all"})):
        resolved = api.call("POST", "conflict", f"/v1/cases/{case_id}/resolve", as_=desk,
                            json={**decision, "note": "decided by the analytics test"})
        assert resolved.status_code == 200, resolved.text
    return cases


def test_analytics_figures_metrics_and_the_analytics_view(api, browser_page, tmp_path):  # noqa: F811
    cases = seed(api)
    desk = api.headers("desk")

    answer = api.call("GET", "conflict", f"/v1/analytics?region={REGION}", as_=desk).json()
    assert answer["registrations"] == {"total": 7, "by_channel": {"reseller": 4, "distributor": 1, "marketplace": 1,
                                                                  "direct": 1}, "by_region": {REGION: 7}}
    assert answer["conflicts"]["cases"] == 3
    assert sorted((p["pair"], p["registrations"], p["cases"], p["rate"]) for p in answer["conflicts"]["by_channel_pair"]
                  ) == [(["reseller", "direct"], 5, 1, 0.2), (["reseller", "distributor"], 5, 1, 0.2),
                        (["reseller", "marketplace"], 5, 1, 0.2)]
    decisions = answer["decisions"]
    assert decisions["by_decision"] == {"award": 1, "reject_all": 1}
    assert decisions["awards_by_channel"] == {"direct": 1}
    assert 0 <= decisions["time_to_decision_s"]["p50"] <= decisions["time_to_decision_s"]["max"] < 600
    by_queue = {q["queue"]: q for q in answer["sla"]["by_queue"]}
    assert by_queue["partner-vs-direct"]["met"] == 1 and by_queue["partner-vs-partner"]["met"] == 1
    assert by_queue["marketplace-vs-reseller"]["pending"] == 1 and answer["sla"]["breached"] == 0
    assert sum(p["registrations"] for p in answer["partners"]) == 7
    assert next(p for p in answer["partners"] if p["channel"] == "direct")["award_rate"] == 1.0
    print(f"\nanalytics for the seeded {REGION} run: {answer}")

    partner = api.headers("partner", partner_id=unique("nosy"))
    forbidden = api.call("GET", "conflict", "/v1/analytics", as_=partner)
    assert forbidden.status_code == 403 and forbidden.headers["Content-Type"] == "application/problem+json"
    backwards = api.call("GET", "conflict", "/v1/analytics?from=2030-02-01&to=2030-01-01", as_=desk)
    assert backwards.status_code == 422 and "from" in backwards.json()["errors"]
    unknown = api.call("GET", "conflict", "/v1/analytics?region=ATLANTIS", as_=api.headers("admin"))
    assert unknown.status_code == 422 and "region" in unknown.json()["errors"]

    metrics = api.call("GET", "conflict", "/metrics").text
    for gauge in ("dealgate_conflict_rate{pair=", "dealgate_time_to_decision_seconds{quantile=\"0.5\"}",
                  "dealgate_sla_met_cases{queue=", "dealgate_registrations_by_region{region=\"LATAM\"}"):
        assert gauge in metrics, gauge

    page = browser_page
    origin = urlparse(api.stack.url("conflict")).netloc
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(api.stack.url("conflict") + "/desk#analytics")
    page.fill("#token", api.tokens.issue("desk", sub=unique("desk:charts")))
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#analytics[data-loaded='true']")
    page.select_option("#an-region", REGION)
    page.click("#analytics-filters button[type=submit]")
    page.wait_for_selector("#chart-pairs[data-points='3']")
    page.wait_for_selector("#analytics[data-loaded='true']")
    assert "reseller / direct 20.0 %" in page.get_attribute("#chart-pairs", "aria-label")
    assert page.get_attribute("#chart-sla", "data-points") == "3"
    assert "partner-vs-direct: 0 breached, 1 met" in page.get_attribute("#chart-sla", "aria-label")
    assert int(page.get_attribute("#chart-decisions", "data-points")) >= 1
    assert "7" in page.inner_text("#an-tiles") and page.locator("#an-partners tbody tr").count() == 7
    assert page.locator("#chart-pairs").bounding_box()["height"] > 100, "Chart.js sized and drew the canvas"
    assert page.locator("#nav-analytics[aria-current='page']").count() == 1

    screenshot = tmp_path / "desk-analytics.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 20_000
    print(f"analytics view screenshot: {screenshot}")
    assert any(url.endswith("/desk/assets/vendor/chart.umd.min.js") for url in requested)
    assert {urlparse(url).netloc for url in requested if url.startswith("http")} == {origin}, "nothing from a CDN"

    page.click("#nav-cases")  # and back to the list: the analytics view keeps to its own hash
    page.wait_for_selector("#cases tbody tr")
    assert page.url.endswith("#cases") and cases["open"]
