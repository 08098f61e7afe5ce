"""The partner portal in a real browser (Debian's Chromium via Playwright) on the real stack: sign in with a pasted
development token, see and filter your registrations (hostile customer names shown as text, never run), open the
history, withdraw, register a deal through the form with the pre-check as you type and the API's validation, and
manage a webhook endpoint whose deliveries (one failure, then success) show in the page."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.conftest import RUN_DIR, unique
from tests.e2e.test_desk_browser import CHROMIUM_ARGS
from tests.e2e.test_webhooks_delivery import Receiver

HOSTILE_NAMES = [
    '<img src=x onerror="document.title=\'pwned\'"> Holdings',
    '"><script>document.title="pwned"</script> GmbH',
    "Robert'); DROP TABLE registrations;-- Ltd",
    "\u202eLtd evil\u202c Corp {{7*7}} ${7*7}",
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def receiver():
    running = Receiver(failures=1)
    yield running
    running.close()


def _page(browser, dialogs: list):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


def _sign_in(page, url: str, token: str) -> None:
    page.goto(url + "/portal")
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#signed-in:not([hidden])")


def _until(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def test_a_partner_works_with_registrations_and_webhooks_in_the_portal(api, browser, receiver):
    product = api.published_listing(channels=("reseller",))
    partner_id = unique("portal")
    token = api.tokens.issue("partner", partner_id=partner_id, channel="reseller")
    partner = {"Authorization": f"Bearer {token}"}
    hostile = []
    for n, name in enumerate(HOSTILE_NAMES):
        submitted = api.submit(partner, [product], customer={"name": name, "country": "GB",
                                                             "domain": f"{unique('hostile')}-{n}.co.uk"})
        assert submitted.status_code == 201, submitted.text
        hostile.append(api.wait_for_verdict(submitted.json()["id"], partner))
    assert {d["status"] for d in hostile} == {"approved"}

    dialogs: list[str] = []
    page = _page(browser, dialogs)
    response = page.goto(api.stack.url("deals") + "/portal")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    page.wait_for_selector(f"#deals tbody tr[data-deal='{hostile[-1]['id']}']")

    # Hostile names are text: shown exactly as typed, no element made from them, no script run.
    for deal, name in zip(hostile, HOSTILE_NAMES, strict=True):
        assert page.inner_text(f"#deals tr[data-deal='{deal['id']}'] td.customer") == name
    assert page.locator("#deals img, #deals script").count() == 0
    assert page.title() == "Dealgate · Partner portal" and dialogs == []

    # Filter by status and by text.
    page.fill("#filter-text", "DROP TABLE")
    page.wait_for_selector("#deals tbody tr >> nth=0")
    assert page.locator("#deals tbody tr").count() == 1
    page.fill("#filter-text", "")
    page.select_option("#filter-status", "withdrawn")
    page.wait_for_selector("#deals-empty:not([hidden])")
    page.select_option("#filter-status", "approved")
    page.wait_for_selector(f"#deals tbody tr[data-deal='{hostile[0]['id']}']")
    assert set(page.locator("#deals tbody td .badge").all_inner_texts()) == {"approved"}

    # History, then withdraw.
    page.click(f"#deals tr[data-deal='{hostile[1]['id']}']")
    page.wait_for_selector("#deal:not([hidden]) #timeline li >> nth=1")
    assert page.inner_text("#deal-title") == HOSTILE_NAMES[1]
    assert page.locator("#timeline li").all_inner_texts()[0].endswith(hostile[1]["history"][0]["reason"])
    assert page.is_enabled("#withdraw") and page.is_enabled("#close-won")
    page.click("#withdraw")
    page.wait_for_selector("#status:has-text('Withdrawn.')")
    assert api.call("GET", "deals", f"/v1/deals/{hostile[1]['id']}", as_=partner).json()["status"] == "withdrawn"

    # A webhook endpoint, added in the page; the secret is shown once.
    page.click("#nav-webhooks")
    page.wait_for_selector("#webhooks-view:not([hidden])")
    page.fill("#w-url", receiver.url)
    page.click("#new-endpoint button[type=submit]")
    page.wait_for_selector("#secret-box:not([hidden])")
    secret = page.inner_text("#secret")
    assert secret.startswith("whsec_")
    endpoint_id = api.call("GET", "deals", "/v1/webhooks", as_=partner).json()["items"][0]["id"]

    # Register through the form: the pre-check answers as the partner types; the API's 422 lands on its field.
    page.click("#nav-register")
    page.wait_for_selector(f"#f-products option[value='{product}']")
    new_name = f"<b>Bold</b> & {unique('Quillon')} Analytics Ltd"
    page.fill("#f-customer-name", new_name)
    page.fill("#f-customer-country", "GB")
    page.select_option("#f-products", product)
    page.wait_for_selector("#precheck.available:not([hidden])")
    assert "Available" in page.inner_text("#precheck")
    page.fill("#f-amount-amount", "12,5 EUR")
    page.fill("#f-amount-currency", "EUR")
    page.click("#submit-deal")
    page.wait_for_selector(".field-error[data-field='amount.amount']")
    assert page.locator(".field-error").count() == 1  # checked in the page: nothing was sent
    page.fill("#f-amount-amount", "12500.00")
    page.fill("#f-customer-country", "ZZ")  # two letters, so only the API can tell it is no country
    page.click("#submit-deal")
    page.wait_for_selector(".field-error[data-field='customer.country']")
    assert page.get_attribute("#f-customer-country", "aria-invalid") == "true"
    page.fill("#f-customer-country", "GB")
    page.fill("#f-expected_close", (dt.date.today() + dt.timedelta(days=40)).isoformat())
    page.click("#submit-deal")
    # The panel may still show the registration opened earlier: wait until it shows the new one, as text.
    page.wait_for_function("name => !document.querySelector('#deal').hidden"
                           " && document.querySelector('#deal-title').textContent === name", arg=new_name)
    assert page.inner_text("#deal-title") == new_name and page.locator("#deal b").count() == 0
    new_id = page.url.split("#deal=", 1)[1]
    assert api.wait_for_verdict(new_id, partner)["status"] == "approved"

    # Its approval reaches the endpoint: one failure, then success; the page shows both attempts; replay once more.
    receiver.wait_for(2, timeout_s=60)
    page.click("#nav-webhooks")
    page.wait_for_selector(f"#endpoints tr[data-endpoint='{endpoint_id}']")

    def succeeded() -> bool:
        page.click(f"#endpoints tr[data-endpoint='{endpoint_id}'] button:has-text('Deliveries')")
        page.wait_for_selector("#deliveries-box:not([hidden])")
        return page.locator("#deliveries .badge.succeeded").count() == 1
    _until(succeeded, 20, "the delivery shows as succeeded")
    attempts = page.locator("#deliveries .attempts li").all_inner_texts()
    assert attempts[0].startswith("503 · ") and attempts[1].startswith("204 · "), attempts
    page.click("#deliveries button:has-text('Replay')")
    page.wait_for_selector("#status:has-text('Queued to be sent again.')")
    receiver.wait_for(3, timeout_s=30)

    # Shown for the report: the registrations list with the hostile names, and the webhooks view.
    page.click("#nav-deals")
    page.select_option("#filter-status", "")
    page.wait_for_selector(f"#deals tbody tr[data-deal='{new_id}']")
    page.click(f"#deals tr[data-deal='{hostile[0]['id']}']")
    page.wait_for_selector("#deal:not([hidden]) #timeline li >> nth=1")
    page.screenshot(path=str(RUN_DIR / "portal.png"), full_page=True)
    page.click("#nav-webhooks")
    page.click(f"#endpoints tr[data-endpoint='{endpoint_id}'] button:has-text('Deliveries')")
    page.wait_for_selector("#deliveries .attempts li >> nth=2")
    page.screenshot(path=str(RUN_DIR / "portal-webhooks.png"), full_page=True)
    assert dialogs == [] and page.title() == "Dealgate · Partner portal"


def test_a_desk_token_is_refused_and_another_partners_registration_stays_hidden(api, browser):
    product = api.published_listing()
    other = api.headers("partner", partner_id=unique("portal-other"))
    theirs = api.submit(other, [product]).json()
    dialogs: list[str] = []
    page = _page(browser, dialogs)
    page.goto(api.stack.url("deals") + "/portal")
    page.fill("#token", api.tokens.issue("desk", sub=unique("desk")))
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#status.error:has-text('not a partner')")
    assert page.is_hidden("#views")

    mine = api.tokens.issue("partner", partner_id=unique("portal-me"), channel="reseller")
    _sign_in(page, api.stack.url("deals"), mine)
    page.goto(api.stack.url("deals") + f"/portal#deal={theirs['id']}")
    page.wait_for_selector("#status.error:has-text('No such registration')")
    assert page.is_hidden("#deal") and dialogs == []
