"""Real Keycloak tokens against the real stack: one pass of the authorization matrix, and `dealgate token --idp`.

Partner, marketplace, sales and admin tokens come from the realm's clients through the client-credentials grant;
the desk's from its user through the authorization code flow with PKCE, as the desk page gets it."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import jwt
import pytest
import requests

from deploy.keycloak import DESK_CLIENT_ID, DESK_USER, client_secret
from tests.e2e.test_security import CELLS

ROLE_CLIENTS = {
    "partner": "dealgate-partner-acme",
    "other_partner": "dealgate-partner-globex",
    "marketplace": "dealgate-marketplace-cloud",
    "sales": "dealgate-sales",
    "admin": "dealgate-admin",
}


def metadata(keycloak) -> dict:
    return requests.get(f"{keycloak.issuer}/.well-known/openid-configuration", timeout=10).json()


def client_token(keycloak, client_id: str) -> str:
    answer = requests.post(metadata(keycloak)["token_endpoint"], timeout=10, data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret(client_id)})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def desk_user_token(keycloak, desk_url: str) -> str:
    """The authorization code flow with PKCE, with the login form filled in as a person would."""
    endpoints = metadata(keycloak)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    session = requests.Session()
    login = session.get(endpoints["authorization_endpoint"], timeout=10, params={
        "client_id": DESK_CLIENT_ID, "redirect_uri": desk_url, "response_type": "code", "scope": "openid",
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', login.text).group(1))
    for cookie in session.cookies:  # Keycloak marks them Secure; a browser sends those to 127.0.0.1, requests not
        cookie.secure = False
    signed_in = session.post(action, timeout=10, allow_redirects=False,
                             data={"username": DESK_USER[0], "password": DESK_USER[1], "credentialId": ""})
    assert signed_in.status_code == 302, signed_in.text[:500]
    returned = urllib.parse.parse_qs(urllib.parse.urlsplit(signed_in.headers["Location"]).query)
    assert returned["state"] == [state]
    answer = session.post(endpoints["token_endpoint"], timeout=10, data={
        "grant_type": "authorization_code", "code": returned["code"][0], "redirect_uri": desk_url,
        "client_id": DESK_CLIENT_ID, "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture(scope="module")
def idp_headers(keycloak, api) -> dict[str, dict]:
    headers = {role: {"Authorization": "Bearer " + client_token(keycloak, client)}
               for role, client in ROLE_CLIENTS.items()}
    headers["desk"] = {"Authorization": "Bearer " + desk_user_token(keycloak, api.stack.url("conflict") + "/desk")}
    headers["anonymous"] = {}
    return headers


def test_keycloak_puts_the_role_and_no_partner_id_in_the_desk_users_token(idp_headers):
    claims = jwt.decode(idp_headers["desk"]["Authorization"].split()[1], options={"verify_signature": False})
    assert "desk" in claims["realm_access"]["roles"] and "partner_id" not in claims
    assert claims["aud"] == "dealgate" or "dealgate" in claims["aud"]
    partner = jwt.decode(idp_headers["partner"]["Authorization"].split()[1], options={"verify_signature": False})
    assert (partner["partner_id"], partner["channel"], partner["realm_access"]["roles"]) == (
        "acme", "reseller", ["partner"])


@pytest.fixture(scope="module")
def idp_world(api, idp_headers):
    """The matrix's world, made with Keycloak tokens: a deal owned by acme, and a case opened by the marketplace."""
    listing_id = api.published_listing()
    customer = {"name": f"Oidc {uuid.uuid4().hex[:6]} AG", "domain": f"oidc-{uuid.uuid4().hex[:6]}.ch",
                "country": "CH"}
    owned = api.submit(idp_headers["partner"], [listing_id], customer=customer)
    assert owned.status_code == 201, owned.text
    api.wait_for_verdict(owned.json()["id"], idp_headers["partner"])
    competing = api.submit(idp_headers["marketplace"], [listing_id], customer=customer).json()
    case_ref = api.wait_for_verdict(competing["id"], idp_headers["marketplace"])["case_ref"]
    assert case_ref, "the overlapping registration should have opened a case"
    return {"headers": idp_headers, "listing": listing_id, "deal": owned.json()["id"], "case": case_ref}


@pytest.mark.parametrize("row, role", CELLS, ids=[f"{row[0]}-{role}" for row, role in CELLS])
def test_authorization_matrix_with_keycloak_tokens(api, idp_world, row, role):
    name, service, method, path, body, expected = row
    response = api.call(method, service, path.format(**idp_world), as_=idp_world["headers"][role],
                        **({"json": body} if body is not None else {}))
    if role in expected:
        assert response.status_code == expected[role], f"{name} as {role}: {response.status_code} {response.text}"
    else:
        assert response.status_code not in (401, 403, 404) and response.status_code < 500, \
            f"{name} as {role} should be allowed: {response.status_code} {response.text[:300]}"


def test_dealgate_token_idp_is_accepted_by_the_deals_api(keycloak, api):
    dealgate = Path(sys.executable).parent / "dealgate"
    result = subprocess.run([str(dealgate), "token", "--role", "partner", "--partner-id", "acme", "--idp"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DEALGATE_OIDC_ISSUER": keycloak.issuer})
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    listed = api.call("GET", "deals", "/v1/deals", as_={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    submitted = api.submit({"Authorization": f"Bearer {token}"}, [api.published_listing()])
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["partner_id"] == "acme"


def test_a_keycloak_token_for_another_audience_or_tampered_is_401(keycloak, api, idp_headers):
    token = idp_headers["sales"]["Authorization"].split()[1]
    head, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["realm_access"] = {"roles": ["admin"]}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = api.call("GET", "deals", "/v1/deals", as_={"Authorization": f"Bearer {head}.{forged}.{signature}"})
    assert response.status_code == 401


def test_keycloak_rotates_its_signing_key_and_the_services_follow_without_a_restart(keycloak, api):
    """A new RSA key of higher priority (Keycloak's own rotation): tokens signed with it name a kid the services
    have not seen; they fetch the keys again on the spot, and tokens signed with the old key stay good too."""
    before = client_token(keycloak, "dealgate-sales")
    assert api.call("GET", "deals", "/v1/deals", as_={"Authorization": f"Bearer {before}"}).status_code == 200
    admin = requests.post(f"{keycloak.url}/realms/master/protocol/openid-connect/token", timeout=10, data={
        "grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"})
    assert admin.status_code == 200, admin.text
    headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    realm = requests.get(f"{keycloak.url}/admin/realms/dealgate", headers=headers, timeout=10).json()
    added = requests.post(f"{keycloak.url}/admin/realms/dealgate/components", headers=headers, timeout=30, json={
        "name": f"rotated-{uuid.uuid4().hex[:6]}", "providerId": "rsa-generated",
        "providerType": "org.keycloak.keys.KeyProvider", "parentId": realm["id"],
        "config": {"priority": ["1000"], "enabled": ["true"], "active": ["true"], "keySize": ["2048"],
                   "algorithm": ["RS256"]}})
    assert added.status_code == 201, added.text

    after = client_token(keycloak, "dealgate-sales")
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    for token in (after, after, before):  # each of the deals API's workers meets the new kid in its turn
        response = api.call("GET", "deals", "/v1/deals", as_={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
