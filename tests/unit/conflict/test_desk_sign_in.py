"""How the desk page signs in: /desk/config.json names the OpenID Connect issuer and the desk's public client, and
offers a pasted token only in development; the page may talk to the issuer and nothing else."""
import pytest

from services.conflict.app import create_app
from services.conflict.bootstrap import bootstrap
from services.conflict.settings import ConflictSettings
from shared.bus import InMemoryBus

ISSUER = "https://idp.example.com/realms/dealgate"


def client_for(tmp_path, **env):
    settings = ConflictSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path), **env})
    return create_app({"SETTINGS": settings, "TESTING": True},
                      conflict=bootstrap(settings, bus=InMemoryBus())).test_client()


def test_development_without_an_issuer_offers_the_pasted_token_only(tmp_path):
    client = client_for(tmp_path)
    assert client.get("/desk/config.json").get_json() == {"oidc": None, "paste": True}
    assert "connect-src 'self';" in client.get("/desk").headers["Content-Security-Policy"]


@pytest.mark.parametrize("environment, paste", [("development", True), ("production", False)])
def test_with_an_issuer_the_desk_signs_in_there_and_pastes_only_in_development(tmp_path, environment, paste):
    client = client_for(tmp_path, DEALGATE_ENV=environment, DEALGATE_OIDC_ISSUER=ISSUER)
    config = client.get("/desk/config.json")
    assert config.status_code == 200 and config.headers["Cache-Control"] == "no-store"
    assert config.get_json() == {"oidc": {"issuer": ISSUER, "client_id": "dealgate-desk",
                                          "role_claim": "realm_access.roles"}, "paste": paste}
    policy = client.get("/desk").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://idp.example.com;" in policy and "script-src 'self';" in policy


def test_the_sign_in_script_is_served_and_written_for_the_code_flow_with_pkce(tmp_path):
    client = client_for(tmp_path)
    script = client.get("/desk/assets/oidc.js")
    assert script.status_code == 200
    text = script.get_data(as_text=True)
    assert 'code_challenge_method: "S256"' in text and 'crypto.subtle.digest("SHA-256"' in text
    assert 'response_type: "code"' in text and "code_verifier" in text
    assert 'dealgateOidc({ page: "desk", roles: ["desk", "admin"] })' in client.get("/desk/assets/desk.js").get_data(
        as_text=True), "the desk's script makes its sign-in from the shared one, with the desk's roles"
    assert '<script src="desk/assets/oidc.js" defer></script>' in client.get("/desk").get_data(as_text=True)
