"""Requests that must not hurt (issue 11): whatever a client sends, all three apps answer it without a 5xx.

The apps run through their real factories on SQLite (and, for the database-down case, on a PostgreSQL URL
nobody listens on); only the Kafka bus is the in-memory twin.
"""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.catalog.app import create_app as create_catalog_app
from services.catalog.bootstrap import MIGRATIONS as CATALOG_MIGRATIONS
from services.catalog.bootstrap import bootstrap as bootstrap_catalog
from services.catalog.settings import CatalogSettings
from services.conflict import handlers as conflict_handlers
from services.conflict.app import create_app as create_conflict_app
from services.conflict.bootstrap import MIGRATIONS as CONFLICT_MIGRATIONS
from services.conflict.bootstrap import bootstrap as bootstrap_conflict
from services.conflict.settings import ConflictSettings
from services.deals.app import create_app as create_deals_app
from services.deals.bootstrap import MIGRATIONS as DEALS_MIGRATIONS
from services.deals.bootstrap import bootstrap as bootstrap_deals
from services.deals.settings import DealsSettings
from shared.auth import TokenService
from shared.bus import InMemoryBus
from shared.db import upgrade_to_head
from tests.unit.conflict.builders import MONDAY_10AM, deal, submitted
from tests.unit.deals.fakes import deal_fields, listing

SECRET = "hostile-requests-secret-0123456789abcdef0123"
TOKENS = TokenService(SECRET)
JSON = {"Content-Type": "application/json"}
FRESH_ID = re.compile(r"^[0-9a-f]{32}$")


def bearer(role: str, **claims) -> dict[str, str]:
    if role in ("partner", "marketplace"):
        claims.setdefault("partner_id", "hostile-partner")
    return {"Authorization": "Bearer " + TOKENS.issue(role, **claims)}


WEBHOOK_BODY = {"url": "http://127.0.0.1:9/hook", "events": ["deal.approved"]}  # an IP: no DNS lookup


def listing_body(**overrides) -> dict:
    return {"title": f"Gateway {uuid.uuid4().hex[:8]}", "summary": "Secure access", "vendor": "Northwind",
            "category": "security", "tags": ["vpn"],
            "offers": [{"name": "Std", "channels": ["reseller", "direct"], "regions": ["NA", "EMEA"],
                        "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "USD"}}}],
            **overrides}


class World:
    """The three apps on SQLite, and one of each resource for the id-taking endpoints to point at."""

    def __init__(self, var_dir):
        env = {"DEALGATE_VAR_DIR": str(var_dir), "DEALGATE_JWT_SECRET": SECRET,
               "DEALS_RATE_LIMIT_PER_MINUTE": "0", "DEALS_CHECK_RATE_LIMIT_PER_MINUTE": "0"}
        catalog_settings = CatalogSettings.from_env(env=env)
        deals_settings = DealsSettings.from_env(env=env)
        conflict_settings = ConflictSettings.from_env(env=env)
        for url, migrations in ((catalog_settings.database_url, CATALOG_MIGRATIONS),
                                (deals_settings.database_url, DEALS_MIGRATIONS),
                                (conflict_settings.database_url, CONFLICT_MIGRATIONS)):
            upgrade_to_head(url, migrations)
        self.catalog_engine = sa.create_engine(catalog_settings.database_url)
        self.catalog = create_catalog_app(
            {"SETTINGS": catalog_settings},
            catalog=bootstrap_catalog(catalog_settings, bus=InMemoryBus())).test_client()
        deals = bootstrap_deals(deals_settings, bus=InMemoryBus())
        self.deals = create_deals_app({"SETTINGS": deals_settings}, deals=deals).test_client()
        conflict = bootstrap_conflict(conflict_settings, bus=InMemoryBus())
        self.conflict = create_conflict_app({"SETTINGS": conflict_settings}, conflict=conflict).test_client()

        created = self.catalog.post("/v1/listings", json=listing_body(), headers=bearer("admin"))
        assert created.status_code == 201, created.json
        self.listing_id = created.json["id"]
        document = listing(regions=("NA", "EMEA", "APAC", "LATAM"))
        with deals.uow_factory() as uow:
            uow.catalog.upsert(document)
            uow.commit()
        self.product = document["id"]
        submitted_deal = self.deals.post("/v1/deals", json=deal_fields([self.product]), headers=bearer("partner"))
        assert submitted_deal.status_code == 201, submitted_deal.json
        self.deal_id = submitted_deal.json["id"]
        webhook = self.deals.post("/v1/webhooks", json=WEBHOOK_BODY, headers=bearer("partner"))
        assert webhook.status_code == 201, webhook.json
        self.webhook_id = webhook.json["id"]
        customer = {"name": "Quillfeather Analytics Ltd", "country": "GB", "domain": "quillfeather.co.uk"}
        for data in (deal(customer=customer, products=[self.product]),
                     deal(channel="direct", customer=customer, products=[self.product])):
            with conflict.uow_factory() as uow:
                conflict_handlers.on_deal_submitted(submitted(data), uow=uow, detector=conflict.detector,
                                                    rules=conflict.rules, now=MONDAY_10AM)
                uow.commit()
        cases = conflict_handlers.list_cases(uow=conflict.uow_factory(), queue=None, statuses=[], limit=1)
        assert cases, "the two overlapping registrations should have opened a case"
        self.case_id = cases[0].id

    def client(self, service: str):
        return {"catalog": self.catalog, "deals": self.deals, "conflict": self.conflict}[service]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World(tmp_path_factory.mktemp("hostile"))


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status and "Traceback" not in response.get_data(as_text=True)
    return body


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + "1" + closer * depth


# --- deeply nested JSON --------------------------------------------------------------------------------------

DEPTHS = [100_000, 5_000, 200]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(("service", "path", "role"), [
    ("catalog", "/v1/listings", "admin"),
    ("deals", "/v1/deals", "partner"),
    ("deals", "/v1/deals/check", "sales"),
    ("conflict", "/v1/cases/{case}/resolve", "desk"),
])
def test_a_deeply_nested_body_is_400_on_a_write_endpoint(world, service, path, role, depth):
    path = path.format(case=world.case_id)
    client = world.client(service)
    assert_problem(client.post(path, data=nested(depth), headers={**bearer(role), **JSON}), 400)
    assert_problem(client.post(path, data=nested(depth, '{"a":', "}"), headers={**bearer(role), **JSON}), 400)


@pytest.mark.parametrize("service", ["catalog", "deals", "conflict"])
@pytest.mark.parametrize("path", ["/healthz", "/nowhere", "/v1/listings/x/publish/y"])
def test_a_deeply_nested_body_without_a_token_is_400_where_no_token_is_needed(world, service, path):
    assert_problem(world.client(service).post(path, data=nested(100_000), headers=JSON), 400)


def test_a_body_as_deep_as_a_real_listing_still_passes(world):
    response = world.catalog.post("/v1/listings", json=listing_body(), headers=bearer("admin"))
    assert response.status_code == 201, response.json


# --- X-Correlation-ID ----------------------------------------------------------------------------------------

GOOD_IDS = ["abc123", "A.b_c:d-e", "x" * 64, "7f9c2ba4e88f827d616045507605853e"]
BAD_IDS = ["x" * 65, "x" * 5000, "has space", "semi;colon", "é", "", "a/b", "<script>"]


@pytest.mark.parametrize("correlation_id", GOOD_IDS)
def test_a_well_formed_correlation_id_is_echoed(world, correlation_id):
    assert world.deals.get("/healthz", headers={"X-Correlation-ID": correlation_id}).headers[
        "X-Correlation-ID"] == correlation_id


@pytest.mark.parametrize("correlation_id", BAD_IDS)
@pytest.mark.parametrize("service", ["catalog", "deals", "conflict"])
def test_any_other_correlation_id_is_replaced_by_a_fresh_one(world, service, correlation_id):
    response = world.client(service).get("/healthz", headers={"X-Correlation-ID": correlation_id})
    assert response.status_code == 200 and FRESH_ID.match(response.headers["X-Correlation-ID"])


@pytest.mark.parametrize("correlation_id", BAD_IDS)
def test_the_search_revalidation_shortcut_replaces_a_bad_correlation_id_too(world, correlation_id):
    first = world.catalog.get("/v1/listings?q=gateway")
    again = world.catalog.get("/v1/listings?q=gateway", headers={"If-None-Match": first.headers["ETag"],
                                                                 "X-Correlation-ID": correlation_id})
    assert again.status_code == 304 and FRESH_ID.match(again.headers["X-Correlation-ID"])


def test_an_overlong_correlation_id_never_reaches_the_outbox(world):
    long_id = "c" * 200
    created = world.catalog.post("/v1/listings", json=listing_body(), headers=bearer("admin"))
    published = world.catalog.post(f"/v1/listings/{created.json['id']}/publish",
                                   headers={**bearer("admin"), "X-Correlation-ID": long_id})
    assert published.status_code == 200  # and listing.published went into the outbox
    with world.catalog_engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT correlation_id FROM outbox")).scalars().all()
    assert stored and all(value is None or len(value) <= 64 for value in stored)
    assert long_id not in stored


# --- If-Match ------------------------------------------------------------------------------------------------

def a_draft(world) -> tuple[str, str]:
    created = world.catalog.post("/v1/listings", json=listing_body(), headers=bearer("admin"))
    return created.json["id"], created.headers["ETag"]


@pytest.mark.parametrize("if_match", ['"²"', '"١"', '"' + "9" * 5000 + '"', '"99999999999999999999999"',
                                      'W/"1"', '"1x"', "", "garbage", '"'])
def test_an_if_match_naming_no_current_listing_version_is_412(world, if_match):
    listing_id, etag = a_draft(world)
    assert etag == '"1"'
    headers = {**bearer("admin"), "If-Match": if_match}
    assert_problem(world.catalog.patch(f"/v1/listings/{listing_id}", json={"title": "x"}, headers=headers), 412)
    assert_problem(world.catalog.post(f"/v1/listings/{listing_id}/publish", headers=headers), 412)


@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', '"1","2"', ' "1" ', 'W/"1", "1"'])
def test_an_if_match_list_holding_the_listing_version_applies(world, if_match):
    listing_id, _ = a_draft(world)
    response = world.catalog.patch(f"/v1/listings/{listing_id}", json={"title": "Changed"},
                                   headers={**bearer("admin"), "If-Match": if_match})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'


def a_deal(world) -> tuple[str, dict]:
    who = bearer("partner", partner_id=f"p-{uuid.uuid4().hex[:8]}")
    created = world.deals.post("/v1/deals", json=deal_fields([world.product]), headers=who)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    return created.headers["Location"], who


@pytest.mark.parametrize("if_match", ['"²"', '"' + "9" * 5000 + '"', 'W/"1"', '"7", "8"', "", "garbage", '"'])
def test_an_if_match_naming_no_current_deal_version_is_412(world, if_match):
    url, who = a_deal(world)
    assert_problem(world.deals.patch(url, json={"notes": "x"}, headers={**who, "If-Match": if_match}), 412)


@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', '"1","2"', ' "1" ', 'W/"1", "1"', "*"])
def test_an_if_match_list_holding_the_deal_version_applies(world, if_match):
    url, who = a_deal(world)
    response = world.deals.patch(url, json={"notes": "x"}, headers={**who, "If-Match": if_match})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"', response.json


def test_a_deal_patch_without_if_match_is_428_and_changes_nothing(world):
    url, who = a_deal(world)
    assert_problem(world.deals.patch(url, json={"notes": "x"}, headers=who), 428)
    assert world.deals.get(url, headers=who).json["version"] == 1


def test_an_if_match_on_someone_elses_deal_is_404_not_412(world):
    url, _ = a_deal(world)
    intruder = bearer("partner", partner_id="intruder")
    for if_match in ('"1"', '"7", "1"', '"7", "8"'):
        assert_problem(world.deals.patch(url, json={"notes": "x"}, headers={**intruder, "If-Match": if_match}),
                       404)


# --- lone surrogates -----------------------------------------------------------------------------------------

LONE_SURROGATES = [
    b'"a\\ud800b"',   # an escaped high surrogate with no low one after it
    b'"a\\udfffb"',   # an escaped low surrogate alone
    b'"\\ude00\\ud83d"',  # a pair in the wrong order
    b'"a\xed\xa0\x80b"',  # a surrogate encoded as UTF-8 bytes (CESU-8), which Python's json decodes as one
]


def with_text(body: dict, field: str, raw: bytes) -> bytes:
    """The body as JSON text with `field` (dotted path) set to the raw JSON string literal `raw`."""
    marker = f"__{uuid.uuid4().hex}__"
    target = body
    *parents, last = field.split(".")
    for name in parents:
        target = target[name]
    target[last] = marker
    return json.dumps(body).encode().replace(f'"{marker}"'.encode(), raw)


def assert_broken_text(response, field: str) -> None:
    """422 naming the field, as deals' own Text fields have always answered (not 400: the JSON is well formed)."""
    errors = assert_problem(response, 422)["errors"]
    assert field in errors and "Unicode" in errors[field][0], errors


@pytest.mark.parametrize("raw", LONE_SURROGATES)
def test_a_lone_surrogate_in_a_listing_title_is_422_naming_the_field(world, raw):
    assert_broken_text(world.catalog.post("/v1/listings", data=with_text(listing_body(), "title", raw),
                                          headers={**bearer("admin"), **JSON}), "title")
    body = with_text({"title": "x"}, "title", raw)
    assert_broken_text(world.catalog.patch(f"/v1/listings/{world.listing_id}", data=body,
                                           headers={**bearer("admin"), **JSON, "If-Match": '"1"'}), "title")
    offers = with_text(listing_body(), "offers", b'[{"id": ' + raw + b"}]")
    assert_broken_text(world.catalog.post("/v1/listings", data=offers, headers={**bearer("admin"), **JSON}),
                       "offers.0.id")


@pytest.mark.parametrize("raw", LONE_SURROGATES)
def test_a_lone_surrogate_anywhere_in_any_body_is_422(world, raw):
    deals_body = with_text(deal_fields([world.product]), "customer.name", raw)
    assert_broken_text(world.deals.post("/v1/deals", data=deals_body, headers={**bearer("partner"), **JSON}),
                       "customer.name")
    key_body = b'{"customer": {"name": "x", "country": "GB", ' + raw + b': 1}, "products": []}'
    errors = assert_problem(world.deals.post("/v1/deals/check", data=key_body,
                                             headers={**bearer("sales"), **JSON}), 422)["errors"]
    assert [name for name in errors if name.startswith("customer.")], errors
    note = with_text({"decision": "dismiss", "note": "x"}, "note", raw)
    assert_broken_text(world.conflict.post(f"/v1/cases/{world.case_id}/resolve", data=note,
                                           headers={**bearer("desk"), **JSON}), "note")


def test_a_proper_surrogate_pair_is_an_ordinary_character(world):
    body = with_text(listing_body(), "title", b'"Gateway \\ud83d\\ude00"')
    created = world.catalog.post("/v1/listings", data=body, headers={**bearer("admin"), **JSON})
    assert created.status_code == 201 and created.json["title"] == "Gateway \U0001f600"


# --- the catalog while its database is unreachable -----------------------------------------------------------

@pytest.fixture(scope="module")
def catalog_without_database(tmp_path_factory):
    with socket.socket() as probe:  # a port nobody listens on: every connection is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = CatalogSettings.from_env(env={
        "DEALGATE_VAR_DIR": str(tmp_path_factory.mktemp("catalog-down")), "DEALGATE_JWT_SECRET": SECRET,
        "CATALOG_DATABASE_URL": f"postgresql://dealgate:dealgate@127.0.0.1:{port}/dealgate_catalog"})
    return create_catalog_app({"SETTINGS": settings},
                              catalog=bootstrap_catalog(settings, bus=InMemoryBus())).test_client()


@pytest.mark.parametrize(("method", "path", "headers", "body"), [
    ("GET", "/v1/listings?q=gateway", {}, None),
    ("GET", "/v1/listings?q=gateway", {"If-None-Match": '"r1-abc"'}, None),  # the revalidation middleware
    ("GET", "/v1/listings", {"If-None-Match": "*"}, None),
    ("GET", "/v1/listings", {**bearer("admin"), "If-None-Match": '"r7-0123"'}, None),
    ("GET", "/v1/listings/00000000-0000-0000-0000-000000000000", {}, None),
    ("POST", "/v1/listings", bearer("admin"), listing_body()),
    ("PATCH", "/v1/listings/00000000-0000-0000-0000-000000000000", {**bearer("admin"), "If-Match": '"1"'},
     {"title": "x"}),
    ("POST", "/v1/listings/00000000-0000-0000-0000-000000000000/publish", bearer("admin"), None),
])
def test_the_catalog_answers_503_with_retry_after_while_its_database_is_unreachable(
        catalog_without_database, method, path, headers, body):
    response = catalog_without_database.open(path, method=method, headers=headers, json=body)
    problem = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1" and "Retry" in problem["detail"]
    assert response.headers["X-Correlation-ID"]


# --- arbitrary JSON at every write endpoint ------------------------------------------------------------------

def _text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    # Any code point, lone surrogates included (st.characters leaves category Cs out unless told otherwise).
    return st.text(st.characters(exclude_categories=()), min_size=min_size, max_size=max_size)


SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=-(10 ** 4000), max_value=10 ** 4000),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-1e308, max_value=1e308),
    _text(), st.sampled_from(["", " ", "1000.00", "2030-01-01", "USD", "GB", "dismiss", "award", "won", "*"]),
    st.integers(min_value=0, max_value=300_000).map(lambda n: "x" * n),
    st.integers(min_value=1, max_value=2_000).map(lambda n: "\ud800" * n),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(st.one_of(_text(max_size=12),
                                                         st.sampled_from(["title", "customer", "name", "products",
                                                                          "amount", "offers", "note", "decision",
                                                                          "winner", "outcome", "notes"])),
                                               children, max_size=6)),
    max_leaves=30)


def _encoded(value) -> st.SearchStrategy[bytes]:
    ascii_text = json.dumps(value)  # lone surrogates become \\udxxx escapes; NaN and Infinity stay bare words
    raw_text = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")  # and here CESU-8 bytes
    return st.sampled_from([ascii_text.encode(), raw_text])


def _deep(draw) -> bytes:
    depth = draw(st.sampled_from([33, 64, 900, 1_000, 3_000, 50_000, 200_000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"customer":', "}"), ("[1,", "]")]))
    balanced = draw(st.booleans())
    return (opener * depth + "0" + closer * (depth if balanced else depth // 2)).encode()


@st.composite
def bodies(draw, sample: dict | None) -> bytes:
    kind = draw(st.sampled_from(["arbitrary", "arbitrary", "shaped", "shaped", "deep", "bytes"]))
    if kind == "deep":
        return _deep(draw)
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    value = draw(JSON_VALUES)
    if kind == "shaped" and sample:  # a valid body with one field, at any depth, replaced by arbitrary JSON
        shaped = json.loads(json.dumps(sample))
        target = shaped
        while True:
            key = draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], dict) and target[key] and draw(st.booleans()):
                target = target[key]
                continue
            target[key] = value
            break
        value = shaped
    return draw(_encoded(value))


WRITERS = {"catalog": ["admin"], "deals": ["partner", "sales", "marketplace"], "conflict": ["desk", "admin"]}
ROLES = ["admin", "desk", "sales", "partner", "marketplace"]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)


def write_endpoints(world: World) -> list[tuple[str, str, str, dict | None]]:
    """(service, method, path, a valid body) for every POST/PUT/PATCH rule of the three apps."""
    samples = {
        "/v1/listings": listing_body(), "/v1/listings/<listing_id>": {"title": "x"},
        "/v1/deals": deal_fields([world.product]), "/v1/deals/<deal_id>": {"notes": "x"},
        "/v1/deals/check": {"customer": {"name": "Acme Ltd", "country": "GB"}, "products": [world.product]},
        "/v1/deals/<deal_id>/close": {"outcome": "won"},
        "/v1/cases/<case_id>/resolve": {"decision": "dismiss", "note": "x"},
        "/v1/webhooks": WEBHOOK_BODY, "/v1/webhooks/<endpoint_id>": {"enabled": True},
        "/v1/partners/<partner_id>": {"tier": "gold", "countries": ["GB"], "channels": ["reseller"],
                                      "lead_capacity": 3},
        "/v1/leads": {"customer": {"name": "Acme Ltd", "country": "GB"}, "products": [world.product]},
        "/v1/leads/<lead_id>/accept": {}, "/v1/leads/<lead_id>/decline": {"reason": "x"},
        "/v1/leads/<lead_id>/assign": {"partner_id": "fuzz-partner"},
        "/v1/territories/<name>": {"owner": "direct", "countries": ["GB"], "named_accounts": ["acme.co.uk"]},
    }
    ids = {"listing_id": world.listing_id, "deal_id": world.deal_id, "case_id": world.case_id,
           "endpoint_id": world.webhook_id, "delivery_id": "msg_none",
           "partner_id": "fuzz-partner", "lead_id": "00000000-0000-4000-8000-000000000000", "name": "fuzz-territory"}
    endpoints = []
    for service in ("catalog", "deals", "conflict"):
        for rule in world.client(service).application.url_map.iter_rules():
            for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
                path = rule.rule
                for name in rule.arguments:
                    path = path.replace(f"<{name}>", ids[name])
                endpoints.append((service, method, path, samples.get(rule.rule)))
    return endpoints


def test_every_write_endpoint_is_known_to_the_fuzzer(world):
    endpoints = write_endpoints(world)
    assert len(endpoints) >= 10 and {service for service, *_ in endpoints} == {"catalog", "deals", "conflict"}


@st.composite
def hostile_requests(draw, world: World):
    service, method, path, sample = draw(st.sampled_from(write_endpoints(world)))
    # Mostly a token the endpoint accepts (the partner one owns the world's deal), so bodies reach the views.
    role = draw(st.sampled_from([*WRITERS[service] * 3, None, "garbage", *ROLES]))
    headers = {} if role is None else {"Authorization": "Bearer not-a-token"} if role == "garbage" else bearer(role)
    headers["Content-Type"] = draw(st.sampled_from(["application/json"] * 8 + ["application/problem+json",
                                                                               "text/plain"]))
    if draw(st.booleans()):
        headers["If-Match"] = draw(st.one_of(HEADER_TEXT, st.sampled_from(['"1"', '"1", "2"', 'W/"1"', "*", '"²"'])))
    if draw(st.booleans()):
        headers["X-Correlation-ID"] = draw(HEADER_TEXT)
    return service, method, path, headers, draw(bodies(sample))


def test_arbitrary_json_at_every_write_endpoint_never_gets_a_5xx(world):
    @settings(max_examples=400, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(hostile_requests(world))
    def check(request):
        service, method, path, headers, body = request
        response = world.client(service).open(path, method=method, headers=headers, data=body)
        assert response.status_code < 500, (service, method, path, headers, body[:300], response.get_data()[:300])
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"

    check()


# --- logging an unexpected error -----------------------------------------------------------------------------

@pytest.mark.parametrize("log_format", ["json", "console"])
def test_an_unexpected_error_is_logged_with_its_traceback_and_no_local_variables(log_format):
    """A fresh process, as gunicorn starts one: structlog's configuration is process-wide and cached on use.
    Before: in console format the error handler itself raised (a dict traceback handed to the console renderer),
    so the 500 lost its problem+json body and its log line."""
    script = (
        "import structlog\n"
        "from shared.logging import configure_logging\n"
        f"configure_logging('catalog', json_output={log_format == 'json'})\n"
        "def handler(token='secret-token-value'):\n"
        "    raise ValueError('boom')\n"
        "try:\n"
        "    handler()\n"
        "except ValueError:\n"
        "    structlog.get_logger().exception('http.unhandled_error', path='/v1/listings')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr
    assert "http.unhandled_error" in result.stderr and "ValueError" in result.stderr and "boom" in result.stderr
    assert "secret-token-value" not in result.stderr
