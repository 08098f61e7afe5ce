"""A partner signs in to the portal with single sign-on in Chromium against the real Keycloak (the desk's flow:
authorization code with PKCE, no token pasted): partner_id and channel come from the person's group in Keycloak,
so the portal shows that partner's registrations and no one else's; signing out ends Keycloak's session."""
from __future__ import annotations

from deploy.keycloak import PORTAL_USER
from tests.conftest import unique
from tests.e2e.test_portal_browser import browser  # noqa: F401 - the fixture, shared

ACME = "acme"  # the partner_id of the realm's group partner-acme, which PORTAL_USER belongs to


def test_a_partner_signs_in_to_the_portal_with_keycloak_and_sees_only_its_own(api, keycloak, browser):  # noqa: F811
    product = api.published_listing(channels=("reseller",))
    acme = api.headers("partner", partner_id=ACME, channel="reseller")
    mine = api.submit(acme, [product], customer={"name": f"Sso Customer {unique('c')} Ltd", "country": "GB"}).json()
    stranger = api.headers("partner", partner_id=unique("not-acme"), channel="reseller")
    theirs = api.submit(stranger, [product]).json()

    page = browser.new_page(viewport={"width": 1300, "height": 900})
    portal = api.stack.url("deals") + "/portal"
    page.goto(f"{portal}#deals")
    page.click("#sso-signin")
    page.wait_for_url(f"{keycloak.issuer}/**")
    page.fill("#username", PORTAL_USER[0])
    page.fill("#password", PORTAL_USER[1])
    page.click("#kc-login")

    page.wait_for_selector(f"#deals tbody tr[data-deal='{mine['id']}']")
    assert page.url == f"{portal}#deals", "the code and state are gone from the URL"
    assert page.inner_text("#who").startswith(f"{ACME} (partner")
    assert page.locator(f"#deals tbody tr[data-deal='{theirs['id']}']").count() == 0

    page.click(f"#deals tr[data-deal='{mine['id']}']")
    page.wait_for_selector("#deal:not([hidden]) #timeline li")
    assert page.inner_text("#deal-title") == mine["customer"]["name"]

    page.click("#signout")
    page.wait_for_url(f"{portal}*")
    page.wait_for_selector("#sso-signin")
    assert page.locator("#deals-view").is_hidden()
    page.click("#sso-signin")
    page.wait_for_selector("#username"), "signing in again asks for the password: Keycloak's session has ended"
