"""The partner portal's files as the deals service serves them: CSP, no inline script, only its own assets, the
sign-in configuration, and the product picker's listings (the browser flows are in tests/e2e)."""
from __future__ import annotations

import dataclasses
import re

import pytest

from services.deals.api.portal import PORTAL_FILES
from services.deals.app import create_app
from services.deals.storage.uow import SqlDealsUnitOfWork
from shared.auth import BROWSER_SIGN_IN_SCRIPT, TokenService
from shared.db import create_engine, upgrade_to_head
from tests.unit.deals.fakes import listing
from tests.unit.deals.test_webhooks import MIGRATIONS, SECRET, bearer, make_deals


def _client(engine, **settings):
    deals = make_deals(engine)
    deals = dataclasses.replace(deals, settings=dataclasses.replace(deals.settings, **settings))
    return create_app({"SETTINGS": deals.settings, "TESTING": True}, deals=deals).test_client()


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'deals.db'}"
    upgrade_to_head(url, MIGRATIONS)
    return create_engine(url)


def test_the_page_is_public_with_a_strict_policy_and_no_inline_script(engine):
    client = _client(engine)
    page = client.get("/portal")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self';" in csp  # no issuer configured: the page talks to this service only
    html = page.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "every script is a file"
    assert not re.search(r"\son[a-z]+\s*=", html), "no inline event handlers"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "nothing from another origin"
    assert client.get("/portal/").status_code == 308


def test_only_the_portals_own_files_are_served(engine):
    client = _client(engine)
    for name in ("portal.js", "portal.css"):
        assert client.get(f"/portal/assets/{name}").status_code == 200
        assert (PORTAL_FILES / name).exists()
    # the sign-in script is the desk's too: one file in shared/, never a copy per page
    assert client.get("/portal/assets/oidc.js").data == BROWSER_SIGN_IN_SCRIPT.read_bytes()
    assert not (PORTAL_FILES / "oidc.js").exists()
    for name in ("index.html", "..%2Fapi%2Fportal.py", "../app.py", "nope.js"):
        assert client.get(f"/portal/assets/{name}").status_code == 404


def test_the_sign_in_configuration_offers_pasting_only_in_development(engine):
    development = _client(engine).get("/portal/config.json").json
    assert development == {"oidc": None, "paste": True}
    production = _client(engine, environment="production", oidc_issuer="https://id.example.com/realms/dealgate",
                         portal_client_id="partner-portal")
    config = production.get("/portal/config.json").json
    assert config["paste"] is False and config["oidc"]["client_id"] == "partner-portal"
    page = production.get("/portal")
    assert "connect-src 'self' https://id.example.com;" in page.headers["Content-Security-Policy"]


def test_the_product_picker_lists_published_listings_offered_to_the_callers_channel(engine):
    client = _client(engine)
    for_resellers = listing(channels=("reseller",), regions=("NA",))
    for_msps = listing(channels=("msp",), regions=("NA",))
    retired = listing(channels=("reseller",), status="retired")
    with SqlDealsUnitOfWork(engine) as uow:
        for document in (for_resellers, for_msps, retired):
            uow.catalog.upsert(document)
        uow.commit()
    assert client.get("/portal/products.json").status_code == 401
    desk = {"Authorization": "Bearer " + TokenService(SECRET).issue("desk")}
    assert client.get("/portal/products.json", headers=desk).status_code == 403
    items = client.get("/portal/products.json", headers=bearer("p-1")).json["items"]
    assert [item["id"] for item in items] == [for_resellers["id"]]
