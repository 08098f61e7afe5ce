"""The channel desk page in a real browser (Debian's Chromium via Playwright): sign in, claim, award."""
import pytest

from tests.conftest import unique

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
        finally:
            browser.close()


def _a_case(api) -> tuple[str, str, str]:
    product = api.published_listing()
    domain = f"{unique('desk')}.se"
    reseller = api.headers("partner", partner_id=unique("desk-reseller"))
    sales = api.headers("sales")
    first = api.submit(reseller, [product], customer={"name": "Nordljus Fastigheter AB", "domain": domain,
                                                      "country": "SE"}).json()
    second = api.submit(sales, [product], customer={"name": "NORDLJUS FASTIGHETER", "domain": f"www.{domain}",
                                                    "country": "SE"}).json()
    decided = api.wait_for_verdict(second["id"], sales)
    assert decided["status"] == "in_conflict", decided
    return decided["case_ref"], first["id"], second["id"]


def test_the_desk_claims_and_awards_a_case_in_the_browser(api, browser_page, tmp_path):
    case_id, first_id, second_id = _a_case(api)
    desk_token = api.tokens.issue("desk", sub=unique("desk:browser"))
    page = browser_page
    page.goto(api.stack.url("conflict") + "/desk")

    page.fill("#token", desk_token)
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#queues tbody tr")
    page.select_option("#filter-queue", "partner-vs-direct")
    # The queue may hold more than a page of cases by now: open this one by its link, as a colleague would share it.
    page.goto(f"{api.stack.url('conflict')}/desk#case={case_id}")
    page.wait_for_selector(f"#registrations article[data-deal='{first_id}']")
    assert page.locator("#registrations mark").count() >= 2, "the shared name tokens and domain are highlighted"
    assert "shared products" in page.inner_text("#evidence")

    page.click("#claim")
    # Selectors, not wait_for_function: the page's Content-Security-Policy forbids evaluating strings.
    page.wait_for_selector("#status:has-text('Claimed')")
    page.fill("#note", "Direct sales registered first with the customer's domain.")
    page.click(f"#registrations button.award[data-deal='{second_id}']")
    page.wait_for_selector("#case[data-status='resolved']")
    assert "Awarded" in page.inner_text("#status")

    screenshot = tmp_path / "desk.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.exists() and screenshot.stat().st_size > 0

    case = api.call("GET", "conflict", f"/v1/cases/{case_id}", as_=api.headers("desk")).json()
    assert case["status"] == "resolved" and case["resolution"]["winner"] == second_id
    assert [h["action"] for h in case["history"]][-2:] == ["claimed", "resolved"]
