"""`dealgate erase --deal ID` against the deals API served in-process (werkzeug), with a minted or a given token."""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from shared.cli import main
from tests.unit.deals.fakes import FakeDealsUnitOfWork, deal_fields, listing
from tests.unit.deals.test_deals_api import SECRET, bearer, make_client

EMAIL = "cli.person@erase-example.com"


@pytest.fixture
def deals_api(monkeypatch):
    uow = FakeDealsUnitOfWork()
    product = listing()
    uow.catalog.upsert(product)
    client = make_client(uow)
    app = client.application
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DEALGATE_JWT_SECRET", SECRET)
    monkeypatch.delenv("DEALGATE_ENV", raising=False)
    monkeypatch.delenv("DEALGATE_OIDC_ISSUER", raising=False)
    created = client.post("/v1/deals", headers=bearer("partner", partner_id="cli-erase"),
                          json=deal_fields([product["id"]], contact={"name": "Cli Person", "email": EMAIL}))
    assert created.status_code == 201
    yield f"http://127.0.0.1:{server.server_port}", created.json["id"], client
    server.shutdown()


def test_erase_mints_an_admin_token_calls_the_api_and_prints_what_was_erased(deals_api, capsys):
    url, deal_id, client = deals_api
    assert main(["erase", "--deal", deal_id, "--url", url]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["deal"] == deal_id and printed["erased"] == ["contact.email", "contact.name"]
    assert printed["by"] == "admin:dealgate-erase" and printed["version"] == 2
    assert EMAIL not in client.get(f"/v1/deals/{deal_id}", headers=bearer("admin")).text

    assert main(["erase", "--deal", deal_id, "--url", url]) == 0, "erasing again is not an error"


def test_a_given_token_is_used_and_a_refusal_is_one_line_and_exit_1(deals_api, capsys):
    url, deal_id, _ = deals_api
    partner_token = bearer("partner", partner_id="cli-erase")["Authorization"].split()[1]
    assert main(["erase", "--deal", deal_id, "--url", url, "--token", partner_token]) == 1
    assert capsys.readouterr().err.strip() == "dealgate erase: HTTP 403: The partner role may not do this."
    assert main(["erase", "--deal", "00000000-0000-0000-0000-000000000000", "--url", url]) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_an_api_that_does_not_answer_is_one_line(capsys):
    assert main(["erase", "--deal", "x", "--url", "http://127.0.0.1:1", "--token", "t"]) == 1
    assert capsys.readouterr().err.startswith("dealgate erase: the deals API at http://127.0.0.1:1 did not answer")
