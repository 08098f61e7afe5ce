"""`dealgate token --idp`: the client-credentials grant against a local token endpoint (a tiny in-process server)."""
from __future__ import annotations

import http.server
import json
import threading
import urllib.parse

import pytest

from shared.cli import main


@pytest.fixture
def token_endpoint(monkeypatch):
    posted: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):  # noqa: N802
            self._answer(200, {"issuer": issuer, "token_endpoint": issuer + "/token"})

        def do_POST(self):  # noqa: N802
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            posted.append(form)
            if form.get("client_secret") != "acme-dev-client-secret-change-me":
                self._answer(401, {"error": "unauthorized_client", "error_description": "Invalid client secret"})
            else:
                self._answer(200, {"access_token": "header.payload.signature", "token_type": "Bearer"})

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}/realms/dealgate"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DEALGATE_OIDC_ISSUER", issuer)
    monkeypatch.delenv("DEALGATE_OIDC_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("DEALGATE_ENV", raising=False)
    yield posted
    server.shutdown()


def test_idp_token_comes_from_the_client_credentials_grant(token_endpoint, capsys):
    assert main(["token", "--role", "partner", "--partner-id", "acme", "--idp"]) == 0
    assert capsys.readouterr().out == "header.payload.signature\n"
    assert token_endpoint == [{"grant_type": "client_credentials", "client_id": "dealgate-partner-acme",
                               "client_secret": "acme-dev-client-secret-change-me"}]


def test_a_refused_client_is_one_line_naming_it(token_endpoint, capsys, monkeypatch):
    monkeypatch.setenv("DEALGATE_OIDC_CLIENT_SECRET", "wrong")
    with pytest.raises(SystemExit) as exited:
        main(["token", "--role", "partner", "--partner-id", "acme", "--idp"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == ("dealgate token: error: the identity provider refused the client "
                                       "dealgate-partner-acme: Invalid client secret\n")


@pytest.mark.parametrize("argv, message", [
    (["--role", "desk", "--idp"], "the desk is a person"),
    (["--role", "sales", "--partner-id", "acme", "--idp"], "cannot carry a partner id"),
    (["--role", "partner", "--idp"], "needs --partner-id"),
    (["--role", "partner", "--partner-id", "acme", "--ttl", "1h", "--idp"], "come from the identity provider"),
])
def test_idp_refuses_what_a_client_cannot_ask_for(token_endpoint, capsys, argv, message):
    with pytest.raises(SystemExit):
        main(["token", *argv])
    assert message in capsys.readouterr().err
    assert token_endpoint == []


def test_production_without_a_secret_signs_no_token_and_points_at_idp(token_endpoint, capsys, monkeypatch):
    monkeypatch.setenv("DEALGATE_ENV", "production")
    monkeypatch.delenv("DEALGATE_JWT_SECRET", raising=False)
    with pytest.raises(SystemExit):
        main(["token", "--role", "admin"])
    assert "accepts no HS256 tokens" in capsys.readouterr().err
