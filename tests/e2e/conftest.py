"""One real stack for the end-to-end tests: its own Kafka, PostgreSQL databases, gunicorn APIs and workers."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid

import pytest
import requests

from deploy.keycloak import Keycloak
from deploy.stack import Ports, Stack
from shared.auth import TokenService
from shared.config import Settings
from tests.conftest import PORT_OFFSET, RUN_DIR, announce

E2E_PORTS = Ports(kafka=29092 + PORT_OFFSET,
                  http={"catalog": 18001 + PORT_OFFSET, "deals": 18002 + PORT_OFFSET, "conflict": 18003 + PORT_OFFSET},
                  doorbell={"catalog": 19301 + PORT_OFFSET, "deals": 19302 + PORT_OFFSET,
                            "conflict": 19303 + PORT_OFFSET})
# The identity provider of the tests that ask for `keycloak`; the stack trusts its issuer from the start.
E2E_KEYCLOAK = Keycloak(RUN_DIR / "keycloak", port=18180 + PORT_OFFSET,
                        desk_urls=(f"http://127.0.0.1:{E2E_PORTS.http['conflict']}/desk",),
                        portal_urls=(f"http://127.0.0.1:{E2E_PORTS.http['deals']}/portal",))


@pytest.fixture(scope="session")
def keycloak(stack, pytestconfig) -> Keycloak:
    """Real Keycloak (dev mode), once per session and only for the tests that ask for it. The stack fixture starts
    it early when the session holds such tests, so that its 20-40 s of start-up overlap the tests before them."""
    started = time.monotonic()
    if E2E_KEYCLOAK.process is None:
        E2E_KEYCLOAK.spawn()
    announce(pytestconfig, f"[e2e stack] waiting for Keycloak on {E2E_KEYCLOAK.url} (log: {E2E_KEYCLOAK.log_file})")
    E2E_KEYCLOAK.wait_ready()
    announce(pytestconfig, f"[e2e stack] Keycloak ready after {time.monotonic() - started:.1f}s more")
    return E2E_KEYCLOAK


@pytest.fixture(scope="session")
def stack(postgres_cluster, kafka_broker, pytestconfig, request):
    """Started once for every e2e test that asks for it; its processes log to <var_dir>/log/<process>.log.

    It runs on the suite's PostgreSQL (databases of its own) and the suite's Kafka broker: the integration
    tests before it used only topics of their own, so the standard topics start empty. Tests that stop and
    restart the broker (SPEC section 8) do so through `stack.kafka`, which is that broker. Only when the suite
    found a Kafka it did not start does the stack start its own on E2E_PORTS.kafka.
    """
    run = uuid.uuid4().hex[:8]
    env = {f"{service.upper()}_DATABASE_URL": postgres_cluster.create_database(f"e2e_{service}_{run}")
           for service in ("catalog", "deals", "conflict")}
    env["DEALS_EXPIRY_INTERVAL_S"] = "1"
    env["DEALS_LEAD_SLA_CLOCK"] = "wall"  # a lead's SLA in plain hours, so a short one expires at any time of day
    env["DEALGATE_OIDC_ISSUER"] = E2E_KEYCLOAK.issuer  # HS256 development tokens stay accepted besides
    ports = E2E_PORTS if kafka_broker is None else dataclasses.replace(E2E_PORTS, kafka=kafka_broker.port)
    running = Stack(var_dir=RUN_DIR / f"e2e-{run}", ports=ports, env=env, http_workers=2)
    if kafka_broker is not None:
        running.kafka = kafka_broker

    def progress(message: str) -> None:
        announce(pytestconfig, f"[e2e stack] {message}")

    progress(f"starting the shared e2e stack (logs in {running.log_dir}) ...")
    if any("keycloak" in getattr(item, "fixturenames", ()) for item in request.session.items):
        progress(f"starting Keycloak on {E2E_KEYCLOAK.url} alongside (log: {E2E_KEYCLOAK.log_file})")
        try:
            E2E_KEYCLOAK.spawn()
        except Exception as exc:  # noqa: BLE001 - the tests that need it fail with the reason; the others go on
            progress(f"Keycloak did not start: {exc}")
    try:
        running.up(progress=progress)
        yield running
    finally:
        running.down(progress=progress)
        E2E_KEYCLOAK.stop()


class Api:
    """A thin HTTP client with a token per role, as a user of the running stack would hold them."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.tokens = TokenService(Settings.from_env("deals", {}).jwt_secret)
        self.session = requests.Session()

    def headers(self, role: str, **claims) -> dict:
        return {"Authorization": "Bearer " + self.tokens.issue(role, **claims)}

    def call(self, method: str, service: str, path: str, *, as_: dict | None = None, **kwargs):
        return self.session.request(method, self.stack.url(service) + path, headers=as_ or {}, timeout=10, **kwargs)

    def published_listing(self, channels=("reseller", "distributor", "msp", "marketplace", "direct")) -> str:
        admin = self.headers("admin")
        listing = self.call("POST", "catalog", "/v1/listings", as_=admin, json={
            "title": f"E2E Suite {uuid.uuid4().hex[:6]}", "summary": "Test listing", "vendor": "Dealgate",
            "category": "analytics", "tags": ["e2e"],
            "offers": [{"name": "Standard", "channels": list(channels), "regions": ["NA", "EMEA"],
                        "pricing": {"model": "flat", "price": {"amount": "1000.00", "currency": "USD"}}}]})
        assert listing.status_code == 201, listing.text
        listing_id = listing.json()["id"]
        assert self.call("POST", "catalog", f"/v1/listings/{listing_id}/publish", as_=admin).status_code == 200
        return listing_id

    def submit(self, as_: dict, products: list[str], *, customer: dict | None = None, retry_until_known_s=20.0):
        """Submit a deal; retries only while deals has not yet seen the listing's event (422 on products)."""
        body = {"customer": customer or {"name": f"Cust {uuid.uuid4().hex[:8]} Ltd",
                                         "domain": f"cust-{uuid.uuid4().hex[:10]}.co.uk", "country": "GB"},
                "products": products, "amount": {"amount": "25000.00", "currency": "USD"},
                "expected_close": (dt.date.today() + dt.timedelta(days=45)).isoformat()}
        deadline = time.monotonic() + retry_until_known_s
        while True:
            response = self.call("POST", "deals", "/v1/deals", as_=as_, json=body)
            products_unknown = response.status_code == 422 and any(
                k.startswith("products") for k in response.json().get("errors", {}))
            if not products_unknown or time.monotonic() > deadline:
                return response
            time.sleep(0.05)

    def wait_for_verdict(self, deal_id: str, as_: dict, timeout_s: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            deal = self.call("GET", "deals", f"/v1/deals/{deal_id}", as_=as_).json()
            if deal["status"] != "submitted" or time.monotonic() > deadline:
                return deal
            time.sleep(0.01)


@pytest.fixture(scope="session")
def api(stack) -> Api:
    return Api(stack)
