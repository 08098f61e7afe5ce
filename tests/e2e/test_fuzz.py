"""Property-based fuzzing of all three OpenAPI documents with schemathesis, with a token for every role.

Every phase runs: the documented examples, coverage (boundary and schema-violating values), fuzzing, and the
stateful phase that follows the links schemathesis infers between operations (a created listing is read,
patched, published, retired). Data is generated both positive and negative (--mode all): valid requests must
not be refused and invalid ones must be (negative_data_rejection). Zero 5xx, and every response must match its
documented status, content type and schema.

So that requests reach past validation, a schemathesis.toml names what random data never guesses: the ids of a
listing, a deal and a case that exist, and a product, customer, currency and closing date deals accepts.

`make test` runs a bounded pass (DEALGATE_FUZZ_EXAMPLES, default 5 per operation and phase; the stateful phase
DEALGATE_FUZZ_STATEFUL_EXAMPLES, default 4 times as many scenarios); `make fuzz` runs a long one.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

EXAMPLES = int(os.environ.get("DEALGATE_FUZZ_EXAMPLES", "5"))
# The deals document has grown to ~30 operations and ~140 inferred links (webhooks, leads, imports): with 20
# scenarios none reached a create-then-read link, so the stateful phase showed nothing.
STATEFUL_EXAMPLES = int(os.environ.get("DEALGATE_FUZZ_STATEFUL_EXAMPLES", str(12 * EXAMPLES)))
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
    "negative_data_rejection",  # the negative half of --mode all: schema-violating requests get a 4xx
    "use_after_free", "ensure_resource_availability",  # what the stateful phase's links can show
])
ROLES = {
    "anonymous": None,
    "partner": {"partner_id": "fuzz-partner"},
    "marketplace": {"partner_id": "fuzz-market"},
    "sales": {},
    "desk": {},
    "admin": {},
}
SUBMITTERS = ("partner", "marketplace", "sales")
CREATORS = {("catalog", "admin"), *(("deals", role) for role in SUBMITTERS)}


@pytest.fixture(scope="module")
def world(api) -> dict:
    """What the fuzzer cannot invent: a listing of its own for catalog to change, a product deals accepts, a deal
    owned by each submitting role, and an open case (a reseller's and direct sales' deal for one customer)."""
    product = api.published_listing()
    customer = {"name": f"Fuzz {uuid.uuid4().hex[:6]} GmbH", "domain": f"fuzz-{uuid.uuid4().hex[:6]}.de",
                "country": "DE"}
    deals = {}
    for role in SUBMITTERS:
        submitted = api.submit(api.headers(role, **ROLES[role]), [product], customer=customer)
        assert submitted.status_code == 201, submitted.text
        deals[role] = submitted.json()["id"]
    case_ref = api.wait_for_verdict(deals["sales"], api.headers("sales"))["case_ref"]
    assert case_ref, "the overlapping registrations should have opened a case"
    return {"listing": api.published_listing(), "product": product, "deals": deals, "case": case_ref}


def schemathesis_config(world: dict, role: str) -> str:
    close = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    dictionaries = {"products": [world["product"]], "names": ["Nordljus Fastigheter AB", "Initech GmbH"],
                    "countries": ["DE", "GB", "US", "JP"],
                    "currencies": ["USD", "EUR"], "amounts": ["25000.00", "999.5"], "closes": [close]}
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines += ["[parameters]",
              f'"path.listing_id" = "{world["listing"]}"',
              f'"path.deal_id" = "{world["deals"].get(role, world["deals"]["partner"])}"',
              f'"path.case_id" = "{world["case"]}"']
    for field, dictionary in (("products[*]", "products"), ("customer.name", "names"),
                              ("customer.country", "countries"), ("amount.currency", "currencies"),
                              ("amount.amount", "amounts"), ("expected_close", "closes")):
        lines.append(f'"body.{field}" = {{ dictionary = "{dictionary}", probability = 0.8 }}')
    lines += ["", "[phases.stateful.generation]", f"max-examples = {STATEFUL_EXAMPLES}", ""]
    # A body over 1 MiB is refused with 413 before it is read (SPEC section 3), and a request line over 4 KiB
    # with gunicorn's 414: rejections like any other.
    lines += ["[checks.negative_data_rejection]",
              'expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", '
              '"428", "429", "5xx"]', ""]
    return "\n".join(lines)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", ["catalog", "deals", "conflict"])
def test_fuzzing_finds_no_server_error_and_no_contract_break(stack, api, world, tmp_path, service, role):
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(world, role))
    command = [str(Path(sys.executable).parent / "st"), "--config-file", str(config), "run",
               stack.url(service) + "/openapi.json", "--phases", PHASES, "--mode", "all", "--checks", CHECKS,
               "-n", str(EXAMPLES), "--request-timeout", "15", "--max-failures", "5", "--generation-deterministic",
               "--no-color"]
    claims = ROLES[role]
    if claims is not None:
        command += ["-H", f"Authorization: {api.headers(role, **claims)['Authorization']}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    # The stateful phase ran (it is skipped when schemathesis finds no links).
    scenarios = re.search(r"Stateful \(in [^)]*\)\s+Scenarios:\s+(\d+)", result.stdout)
    assert scenarios and int(scenarios.group(1)) > 0, result.stdout[-4000:]
    links = re.search(r"API Links:\s+(\d+) covered", result.stdout)
    if (service, role) in CREATORS:  # it creates what its links lead to, so some of them are followed
        assert links and int(links.group(1)) > 0, result.stdout[-4000:]
