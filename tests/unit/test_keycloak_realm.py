"""The development realm in deploy/keycloak: what the stack, the CLI and the e2e suite rely on it to define."""
from __future__ import annotations

from deploy.keycloak import DESK_CLIENT_ID, PORTAL_CLIENT_ID, PORTAL_USER, PROGRESS, client_secret, realm
from shared.auth import ROLES


def _clients(document: dict) -> dict[str, dict]:
    return {client["clientId"]: client for client in document["clients"]}


def _fixed_partner_id(client: dict) -> bool:
    """The client puts one partner_id in every token it issues (a partner's client-credentials client)."""
    return any(m["protocolMapper"] == "oidc-hardcoded-claim-mapper" and m["config"].get("claim.name") == "partner_id"
               for m in client.get("protocolMappers", []))


def test_the_realm_defines_the_roles_a_desk_user_and_partner_clients_with_client_credentials():
    document = realm()
    assert {role["name"] for role in document["roles"]["realm"]} == set(ROLES)
    users = {user["username"]: user for user in document["users"]}
    assert users["desk"]["realmRoles"] == ["desk"] and "attributes" not in users["desk"]
    clients = _clients(document)
    partners = [client for client in clients.values()
                if _fixed_partner_id(client)
                and users[f"service-account-{client['clientId']}"]["realmRoles"] == ["partner"]]
    assert len(partners) >= 2
    for client in partners:
        assert client["serviceAccountsEnabled"] and not client["publicClient"] and client["secret"]
        assert not client["standardFlowEnabled"] and not client["directAccessGrantsEnabled"]


def test_every_client_puts_the_dealgate_audience_in_its_access_tokens():
    for client in realm()["clients"]:
        audiences = [m["config"]["included.custom.audience"] for m in client["protocolMappers"]
                     if m["protocolMapper"] == "oidc-audience-mapper"]
        assert audiences == ["dealgate"], client["clientId"]


def test_only_partner_and_marketplace_clients_carry_a_partner_id():
    document = realm()
    roles = {user["serviceAccountClientId"]: user["realmRoles"] for user in document["users"]
             if "serviceAccountClientId" in user}
    for client_id, client in _clients(document).items():
        carries = _fixed_partner_id(client)
        assert carries == (roles.get(client_id, [""])[0] in ("partner", "marketplace")), client_id


def test_the_desk_client_is_public_with_pkce_and_points_at_the_desk_it_is_given():
    desk = _clients(realm(("http://127.0.0.1:18093/desk",)))[DESK_CLIENT_ID]
    assert desk["publicClient"] and desk["standardFlowEnabled"] and not desk["directAccessGrantsEnabled"]
    assert desk["attributes"]["pkce.code.challenge.method"] == "S256"
    assert desk["redirectUris"] == ["http://127.0.0.1:18093/desk"]
    assert client_secret("dealgate-partner-acme") and client_secret(DESK_CLIENT_ID) is None


def test_the_portal_client_is_public_with_pkce_and_takes_partner_id_and_channel_from_the_persons_group():
    document = realm(portal_urls=("http://127.0.0.1:18402/portal",))
    portal = _clients(document)[PORTAL_CLIENT_ID]
    assert portal["publicClient"] and portal["standardFlowEnabled"] and not portal["directAccessGrantsEnabled"]
    assert portal["attributes"]["pkce.code.challenge.method"] == "S256"
    assert portal["redirectUris"] == ["http://127.0.0.1:18402/portal"]
    mapped = {m["config"]["claim.name"]: m["config"]["user.attribute"] for m in portal["protocolMappers"]
              if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"}
    assert mapped == {"partner_id": "partner_id", "channel": "channel"}
    person = next(user for user in document["users"] if user["username"] == PORTAL_USER[0])
    assert person["realmRoles"] == ["partner"] and person["credentials"][0]["value"] == PORTAL_USER[1]
    groups = {f"/{group['name']}": group["attributes"] for group in document["groups"]}
    assert [groups[path] for path in person["groups"]] == [{"partner_id": ["acme"], "channel": ["reseller"]}]


def test_mavens_download_progress_is_read():
    found = PROGRESS.search("Progress (1): 42/159 MB")
    assert found and (found.group("done"), found.group("total"), found.group("unit")) == ("42", "159", "MB")
