"""The desk signs in with single sign-on in Chromium against the real Keycloak: the authorization code flow with
PKCE, no token pasted; then claim, resolve, and sign out (which ends Keycloak's session too)."""
from __future__ import annotations

from deploy.keycloak import DESK_USER
from tests.conftest import unique
from tests.e2e.test_desk_browser import _a_case, browser_page  # noqa: F401 - the fixture, shared


def test_the_desk_signs_in_with_keycloak_claims_resolves_and_signs_out(api, keycloak, browser_page):  # noqa: F811
    case_id, first_id, second_id = _a_case(api)
    page = browser_page
    desk = api.stack.url("conflict") + "/desk"
    page.goto(f"{desk}#case={case_id}")

    page.click("#sso-signin")
    page.wait_for_url(f"{keycloak.issuer}/**")
    page.fill("#username", DESK_USER[0])
    page.fill("#password", DESK_USER[1])
    page.click("#kc-login")
    # Back on the desk, signed in with the code exchanged for tokens, on the case it was opened at.
    page.wait_for_selector(f"#registrations article[data-deal='{first_id}']")
    assert page.url == f"{desk}#case={case_id}", "the code and state are gone from the URL"
    assert "desk" in page.inner_text("#who")
    assert page.locator("#token").is_hidden(), "nothing to paste once signed in"

    page.click("#claim")
    page.wait_for_selector("#status:has-text('Claimed')")
    note = f"Signed in through Keycloak {unique('sso')}"
    page.fill("#note", note)
    page.click(f"#registrations button.award[data-deal='{second_id}']")
    page.wait_for_selector("#case[data-status='resolved']")

    case = api.call("GET", "conflict", f"/v1/cases/{case_id}", as_=api.headers("desk")).json()
    assert case["status"] == "resolved" and case["resolution"]["winner"] == second_id
    claimed, resolved = case["history"][-2:]
    assert (claimed["action"], resolved["action"]) == ("claimed", "resolved")
    assert note in str(resolved)

    page.click("#signout")
    # Keycloak ends its session and sends the browser back to the desk, signed out.
    page.wait_for_url(f"{desk}*")
    page.wait_for_selector("#sso-signin")
    assert page.locator("#desk").is_hidden()
    page.click("#sso-signin")
    page.wait_for_selector("#username"), "signing in again asks for the password: Keycloak's session has ended"
