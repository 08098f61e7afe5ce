"""Each service's OpenAPI document as a new user meets it: browsable at /docs (Swagger UI bundled, no CDN, under the
page's CSP, in Chromium), and good enough to generate a client from with openapi-python-client that talks to the
running stack and reads every answer typed: the resources, a 422 with its errors map, a 404, a 403."""
from __future__ import annotations

import datetime as dt
import importlib
import io
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.conftest import unique

SERVICES = ("catalog", "deals", "conflict")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def clients(stack, tmp_path_factory):
    """A client package per service, generated from the document the running service serves."""
    directory = tmp_path_factory.mktemp("generated-clients")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # it runs ruff on the result
    for service in SERVICES:
        document = directory / f"{service}.json"
        document.write_bytes(requests.get(stack.url(service) + "/openapi.json", timeout=10).content)
        result = subprocess.run([str(bin_dir / "openapi-python-client"), "generate", "--path", str(document),
                                 "--meta", "none", "--output-path", str(directory / f"{service}_client")],
                                capture_output=True, text=True, timeout=300, env=env, cwd=directory)
        assert result.returncode == 0, result.stdout + result.stderr
        # The one thing the generator cannot use: the import's raw text/csv body (it uses the multipart form).
        output = (result.stdout + result.stderr).replace("Unsupported content type text/csv", "")
        assert "Unsupported" not in output and "will not be generated" not in output, output
    sys.path.insert(0, str(directory))
    try:
        yield {service: importlib.import_module(f"{service}_client") for service in SERVICES}
    finally:
        sys.path.remove(str(directory))
        for name in [name for name in sys.modules if name.split(".")[0] in {f"{s}_client" for s in SERVICES}]:
            del sys.modules[name]


def _module(package, path: str):
    return importlib.import_module(f"{package.__name__}.{path}")


def test_a_generated_deals_client_submits_reads_lists_and_reads_typed_problems(api, clients):
    deals = clients["deals"]
    submit = _module(deals, "api.deals.post_v1_deals")
    read = _module(deals, "api.deals.get_v1_deals_deal_id")
    listing = _module(deals, "api.deals.get_v1_deals")
    models = _module(deals, "models")
    partner = api.tokens.issue("partner", partner_id=unique("client-partner"))
    client = deals.AuthenticatedClient(base_url=api.stack.url("deals"), token=partner)
    product = api.published_listing()
    body = models.DealSubmit.from_dict({
        "customer": {"name": f"Generated {unique('c')} AB", "domain": f"{unique('gen')}.se", "country": "SE"},
        "products": [product], "amount": {"amount": "12000.00", "currency": "EUR"},
        "expected_close": (dt.date.today() + dt.timedelta(days=30)).isoformat()})
    api.submit(api.headers("sales"), [product])  # waits until deals knows the product
    created = submit.sync_detailed(client=client, body=body, idempotency_key=unique("client"))
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.Deal) and created.parsed.status == "submitted"

    again = read.sync(client=client, deal_id=created.parsed.id)
    assert isinstance(again, models.Deal) and again.id == created.parsed.id
    page = listing.sync(client=client, limit=10)
    assert isinstance(page, models.DealPage) and created.parsed.id in [item.id for item in page.items]

    invalid = models.DealSubmit.from_dict({**body.to_dict(), "customer": {"name": "", "country": "XX"}})
    refused = submit.sync_detailed(client=client, body=invalid)
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.ValidationProblem), refused.content
    assert {"customer.name", "customer.country"} <= set(refused.parsed.errors.additional_properties)

    missing = read.sync_detailed(client=client, deal_id="00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem) and missing.parsed.status == 404

    desk = deals.AuthenticatedClient(base_url=api.stack.url("deals"), token=api.tokens.issue("desk"))
    forbidden = submit.sync_detailed(client=desk, body=body)
    assert forbidden.status_code == 403 and isinstance(forbidden.parsed, models.Problem)

    # A CSV import through the generated multipart form: the job, then its typed report.
    csv_text = ("customer_name,customer_country,products,amount,currency,expected_close\n"
                f"Generated Import AB,SE,{product},500.00,EUR,{body.expected_close}\n")
    upload = _module(deals, "api.deal_imports.post_v1_deals_import").sync_detailed(
        client=client, body=models.PostV1DealsImportFilesBody(file=_module(deals, "types").File(
            payload=io.BytesIO(csv_text.encode()), file_name="deals.csv", mime_type="text/csv")))
    assert upload.status_code == 202 and isinstance(upload.parsed, models.ImportJob), upload.content
    report = _module(deals, "api.deal_imports.get_v1_deals_import_job_id")
    deadline = time.monotonic() + 120  # jobs take turns, so this one is not behind another's large file
    while (job := report.sync(client=client, job_id=upload.parsed.id)).status != "done":
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert isinstance(job, models.ImportReport) and job.rows[0].status == "created" and job.rows[0].deal_id


def test_a_generated_catalog_client_reads_anonymously_and_reads_typed_problems(api, clients):
    catalog = clients["catalog"]
    models = _module(catalog, "models")
    product = api.published_listing()
    anonymous = catalog.Client(base_url=api.stack.url("catalog"))
    found = _module(catalog, "api.listings.get_v1_listings_listing_id").sync(client=anonymous, listing_id=product)
    assert isinstance(found, models.Listing) and found.id == product
    page = _module(catalog, "api.listings.get_v1_listings").sync_detailed(client=anonymous, limit=0)
    assert page.status_code == 422 and isinstance(page.parsed, models.ValidationProblem)
    assert "limit" in page.parsed.errors.additional_properties
    missing = _module(catalog, "api.listings.get_v1_listings_listing_id").sync_detailed(
        client=anonymous, listing_id="no-such-listing")
    assert missing.status_code == 404 and isinstance(missing.parsed, models.Problem)


def test_a_generated_conflict_client_reads_queues_and_typed_problems(api, clients):
    conflict = clients["conflict"]
    models = _module(conflict, "models")
    desk = conflict.AuthenticatedClient(base_url=api.stack.url("conflict"), token=api.tokens.issue("desk"))
    queues = _module(conflict, "api.queues.get_v1_queues").sync(client=desk)
    assert isinstance(queues, list) and all(isinstance(queue, models.Queue) for queue in queues)
    missing = _module(conflict, "api.cases.get_v1_cases_case_id").sync_detailed(
        client=desk, case_id="00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and isinstance(missing.parsed, models.Problem)
    partner = conflict.AuthenticatedClient(base_url=api.stack.url("conflict"),
                                           token=api.tokens.issue("partner", partner_id=unique("p")))
    refused = _module(conflict, "api.cases.get_v1_cases").sync_detailed(client=partner)
    assert refused.status_code == 403 and isinstance(refused.parsed, models.Problem)


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_documentation_renders_in_chromium_from_bundled_files_under_its_csp(stack, service):
    from playwright.sync_api import sync_playwright

    base = stack.url(service)
    origin = urllib.parse.urlsplit(base).netloc
    foreign: list[str] = []
    console_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(90_000)  # a loaded 2-core machine parses Swagger UI's 1 MB bundle slowly
            page.on("request", lambda request: foreign.append(request.url)
                    if urllib.parse.urlsplit(request.url).netloc not in (origin, "") else None)
            page.on("console", lambda message: console_errors.append(message.text)
                    if message.type == "error" else None)
            response = page.goto(base + "/docs")
            assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_selector(".opblock-summary-path")
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any(path.startswith("/v1/") for path in paths), paths
            page.locator(".opblock-summary").first.click()  # an operation opens with its documented answers
            page.wait_for_selector(".responses-table")
            assert page.locator(".responses-table .response-col_status").count() > 2
        finally:
            browser.close()
    assert foreign == [], "the documentation must not load anything from another origin"
    assert not [e for e in console_errors if "Content Security Policy" in e or "Refused" in e], console_errors
