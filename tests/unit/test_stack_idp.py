"""make up IDP=keycloak: the stack runs a local Keycloak and points every process at it; plain make up does not."""
from deploy.stack import Ports, Stack, main


def test_with_keycloak_every_process_trusts_its_issuer_and_the_desk_client_points_at_the_desk(tmp_path):
    stack = Stack(var_dir=tmp_path, ports=Ports(keycloak=18555), idp="keycloak")
    assert stack.env()["DEALGATE_OIDC_ISSUER"] == "http://127.0.0.1:18555/realms/dealgate"
    assert stack.keycloak is not None and stack.keycloak.desk_urls == ("http://127.0.0.1:8003/desk",)


def test_plain_up_keeps_the_development_tokens_only(tmp_path, monkeypatch):
    monkeypatch.delenv("DEALGATE_OIDC_ISSUER", raising=False)
    stack = Stack(var_dir=tmp_path)
    assert stack.keycloak is None and "DEALGATE_OIDC_ISSUER" not in stack.env()


def test_only_keycloak_is_an_idp(capsys):
    try:
        main(["up", "--idp", "auth0"])
    except SystemExit as exited:
        assert exited.code == 2
    assert "invalid choice: 'auth0'" in capsys.readouterr().err
