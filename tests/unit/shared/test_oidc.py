"""OpenID Connect tokens against a local issuer: its discovery document and JWKS served by a tiny in-process HTTP
server, its keys generated with cryptography. RS256 and ES256, key rotation, iss/aud/exp/lifetime, and the claims."""
from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import threading
import uuid

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.deals.app import create_app
from services.deals.bootstrap import Deals
from services.deals.domain.policy import DealPolicy
from services.deals.limits import DealLimits, LocalRateLimiter
from services.deals.settings import DealsSettings
from shared.auth import (
    AuthError,
    ClaimNames,
    OidcProvider,
    OidcVerifier,
    TokenService,
    Verifiers,
    http_get_json,
    verifiers_for,
)
from shared.bus import InMemoryBus
from shared.config import Settings
from tests.unit.deals.fakes import FakeDealsUnitOfWork

AUDIENCE = "dealgate"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _public_jwk(key, kid: str) -> dict:
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    document = json.loads(algorithm.to_jwk(key.public_key()))
    document.update(kid=kid, use="sig", alg="RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
    return document


class LocalIssuer:
    """An OpenID provider as far as a resource server sees one: discovery, and a JWKS that can change."""

    def __init__(self):
        self.keys: list[dict] = []
        self.requests: list[str] = []
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                issuer.requests.append(self.path)
                if self.path == "/realms/test/.well-known/openid-configuration":
                    body = {"issuer": issuer.issuer, "jwks_uri": issuer.issuer + "/certs",
                            "authorization_endpoint": issuer.issuer + "/auth"}
                elif self.path == "/realms/test/certs":
                    body = {"keys": [{"kid": "enc-1", "kty": "RSA", "use": "enc", "alg": "RSA-OAEP",
                                      "n": "AQAB", "e": "AQAB"}, *issuer.keys]}
                else:
                    self.send_error(404)
                    return
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *pairs) -> None:
        self.keys = [_public_jwk(key, kid) for key, kid in pairs]

    def token(self, key=RSA_KEY, kid="rsa-1", *, algorithm=None, lifetime=dt.timedelta(minutes=5), **claims) -> str:
        now = dt.datetime.now(dt.UTC)
        body = {"iss": self.issuer, "aud": AUDIENCE, "sub": str(uuid.uuid4()), "iat": now, "exp": now + lifetime,
                "realm_access": {"roles": ["offline_access", "partner", "default-roles-test"]},
                "partner_id": "acme", "channel": "reseller", "azp": "dealgate-partner-acme"}
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        algorithm = algorithm or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture(scope="module")
def idp():
    issuer = LocalIssuer()
    yield issuer
    issuer.server.shutdown()


@pytest.fixture
def verifier(idp):
    idp.publish((RSA_KEY, "rsa-1"), (EC_KEY, "ec-1"))
    return OidcVerifier(OidcProvider(idp.issuer, refresh_interval_s=0), AUDIENCE)


def test_rs256_and_es256_tokens_verify_with_keycloaks_claims(idp, verifier):
    principal = verifier.verify(idp.token())
    assert (principal.role, principal.partner_id, principal.channel) == ("partner", "acme", "reseller")
    es = verifier.verify(idp.token(EC_KEY, "ec-1", realm_access={"roles": ["sales"]}, partner_id=None, channel=None))
    assert (es.role, es.partner_id, es.channel, es.owner_key) == ("sales", None, "direct", "direct")


def test_keys_are_fetched_once_and_reused(idp, verifier):
    idp.requests.clear()
    for _ in range(5):
        verifier.verify(idp.token())  # a new token each time: not served from the cache of checked tokens
    assert idp.requests == ["/realms/test/.well-known/openid-configuration", "/realms/test/certs"]


def test_an_unknown_kid_fetches_the_keys_again_so_rotation_needs_no_restart(idp):
    idp.publish((RSA_KEY, "rsa-1"))
    now = [1000.0]
    provider = OidcProvider(idp.issuer, clock=lambda: now[0], refresh_interval_s=2.0)
    verifier = OidcVerifier(provider, AUDIENCE)
    assert verifier.verify(idp.token()).partner_id == "acme"
    assert provider.fetches == 1

    idp.publish((RSA_KEY, "rsa-1"), (RSA_KEY_2, "rsa-2"))  # the issuer rotates: a new key, the old one still there
    now[0] += 2.0
    rotated = idp.token(RSA_KEY_2, "rsa-2")
    assert verifier.verify(rotated).partner_id == "acme", "the new key is fetched when a token first names it"
    assert provider.fetches == 2

    idp.publish((RSA_KEY_2, "rsa-2"))  # the old key withdrawn; tokens naming it are refused once the keys are fetched
    now[0] += 2.0
    with pytest.raises(AuthError, match="does not publish"):
        verifier.verify(idp.token(RSA_KEY, "rsa-gone"))
    assert provider.fetches == 3


def test_unknown_kids_do_not_turn_into_a_stream_of_requests_to_the_issuer(idp):
    idp.publish((RSA_KEY, "rsa-1"))
    now = [1000.0]
    provider = OidcProvider(idp.issuer, clock=lambda: now[0], refresh_interval_s=2.0)
    verifier = OidcVerifier(provider, AUDIENCE)
    verifier.verify(idp.token())
    for attempt in range(20):
        with pytest.raises(AuthError, match="does not publish"):
            verifier.verify(idp.token(kid=f"made-up-{attempt}"))
    assert provider.fetches == 1, "within the refresh interval, unknown kids are refused without asking again"
    now[0] += 2.0
    with pytest.raises(AuthError):
        verifier.verify(idp.token(kid="made-up-later"))
    assert provider.fetches == 2


def test_an_issuer_outage_keeps_the_keys_already_fetched():
    calls = []
    keys = {"keys": [_public_jwk(RSA_KEY, "rsa-1")]}

    def flaky(url: str):
        calls.append(url)
        if url.endswith("openid-configuration"):
            return {"issuer": "https://idp.test/realms/x", "jwks_uri": "https://idp.test/realms/x/certs"}
        if len(calls) > 2:
            raise OSError("connection refused")
        return keys

    now = [0.0]
    provider = OidcProvider("https://idp.test/realms/x", get_json=flaky, clock=lambda: now[0], max_age_s=60)
    assert provider.signing_key("rsa-1").key_id == "rsa-1"
    now[0] += 61  # stale: fetched again, which fails; the old keys stay in use
    assert provider.signing_key("rsa-1").key_id == "rsa-1"
    assert len(calls) == 3


def _forged_hs256_with_public_key(idp) -> str:
    pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps({"iss": idp.issuer, "aud": AUDIENCE, "sub": "x",
                                                   "realm_access": {"roles": ["admin"]}, "iat": 1,
                                                   "exp": 9999999999}).encode()).rstrip(b"=")
    import hashlib
    import hmac
    signature = base64.urlsafe_b64encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()).rstrip(b"=")
    return b".".join([header, payload, signature]).decode()


@pytest.mark.parametrize("case, message", [
    ("another issuer", "another issuer"),
    ("another audience", "not meant for dealgate"),
    ("no exp", "not valid"),
    ("no iat", "not valid"),
    ("expired", "expired"),
    ("lives too long", "lives longer than the 3600 s"),
    ("issued in the future", "not valid|future"),
    ("signed by another key under a published kid", "not valid"),
    ("alg none", "RS256 or ES256"),
    ("hs256 signed with the public key", "RS256 or ES256"),
    ("no kid", "names no signing key"),
    ("no Dealgate role", "no Dealgate role"),
    ("two Dealgate roles", "more than one Dealgate role"),
    ("partner without partner_id", "must carry a partner_id"),
    ("sales with a partner_id", "a sales token may not carry a partner_id"),
    ("desk with a partner_id", "a desk token may not carry a partner_id"),
    ("admin with a partner_id", "an admin token may not carry a partner_id"),
    ("channel its role may not use", "channel its role may not use"),
])
def test_bad_tokens_are_refused(idp, verifier, case, message):
    now = dt.datetime.now(dt.UTC)
    token = {
        "another issuer": lambda: idp.token(iss="https://evil.example/realms/test"),
        "another audience": lambda: idp.token(aud="account"),
        "no exp": lambda: idp.token(exp=None),
        "no iat": lambda: idp.token(iat=None),
        "expired": lambda: idp.token(iat=now - dt.timedelta(minutes=10), exp=now - dt.timedelta(minutes=5)),
        "lives too long": lambda: idp.token(lifetime=dt.timedelta(hours=2)),
        "issued in the future": lambda: idp.token(iat=now + dt.timedelta(minutes=10),
                                                  exp=now + dt.timedelta(minutes=20)),
        "signed by another key under a published kid": lambda: idp.token(RSA_KEY_2, "rsa-1"),
        "alg none": lambda: jwt.encode({"iss": idp.issuer, "aud": AUDIENCE, "sub": "x", "exp": 9999999999,
                                        "iat": 1, "realm_access": {"roles": ["admin"]}}, None, algorithm="none",
                                       headers={"kid": "rsa-1"}),
        "hs256 signed with the public key": lambda: _forged_hs256_with_public_key(idp),
        "no kid": lambda: jwt.encode({"iss": idp.issuer, "aud": AUDIENCE, "sub": "x", "iat": now,
                                      "exp": now + dt.timedelta(minutes=5)}, RSA_KEY, algorithm="RS256"),
        "no Dealgate role": lambda: idp.token(realm_access={"roles": ["offline_access", "uma_authorization"]}),
        "two Dealgate roles": lambda: idp.token(realm_access={"roles": ["partner", "admin"]}),
        "partner without partner_id": lambda: idp.token(partner_id=None),
        "sales with a partner_id": lambda: idp.token(realm_access={"roles": ["sales"]}, channel=None),
        "desk with a partner_id": lambda: idp.token(realm_access={"roles": ["desk"]}, channel=None),
        "admin with a partner_id": lambda: idp.token(realm_access={"roles": ["admin"]}, channel=None),
        "channel its role may not use": lambda: idp.token(channel="direct"),
    }[case]()
    with pytest.raises(AuthError, match=message):
        verifier.verify(token)


def test_a_discovery_document_for_another_issuer_is_refused(idp):
    def lying(url: str):
        return {"issuer": "https://evil.example", "jwks_uri": idp.issuer + "/certs"}

    with pytest.raises(AuthError, match="does not name this issuer"):
        OidcVerifier(OidcProvider(idp.issuer, get_json=lying), AUDIENCE).verify(idp.token())


def test_which_claims_carry_role_partner_and_channel_is_configurable(idp, verifier):
    custom = OidcVerifier(OidcProvider(idp.issuer), AUDIENCE, claims=ClaimNames(
        role="dealgate_role", partner_id="https://dealgate.example/partner", channel="ext.channel"))
    token = idp.token(dealgate_role="partner", realm_access=None, partner_id=None, channel=None,
                      **{"https://dealgate.example/partner": "globex", "ext": {"channel": "distributor"}})
    principal = custom.verify(token)
    assert (principal.role, principal.partner_id, principal.channel) == ("partner", "globex", "distributor")


def test_development_accepts_both_kinds_and_production_with_an_issuer_only_oidc(idp, verifier):
    hs256 = TokenService(Settings.from_env("deals", {}).jwt_secret).issue("partner", partner_id="acme")
    development = verifiers_for(Settings.from_env("deals", {"DEALGATE_OIDC_ISSUER": idp.issuer}))
    assert development.verify(hs256).partner_id == development.verify(idp.token()).partner_id == "acme"
    production = verifiers_for(Settings.from_env("deals", {"DEALGATE_ENV": "production",
                                                           "DEALGATE_OIDC_ISSUER": idp.issuer}))
    assert production.verify(idp.token()).role == "partner"
    with pytest.raises(AuthError):
        production.verify(hs256)
    with pytest.raises(AuthError):
        Verifiers().verify(idp.token())  # nothing configured: nothing accepted


def test_hs256_tokens_follow_the_same_partner_id_rule():
    tokens = TokenService(Settings.from_env("deals", {}).jwt_secret)
    with pytest.raises(ValueError, match="cannot carry a partner id"):
        tokens.issue("desk", partner_id="acme")
    forged = jwt.encode({"sub": "x", "role": "sales", "partner_id": "acme", "iss": "dealgate",
                         "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)},
                        Settings.from_env("deals", {}).jwt_secret, algorithm="HS256")
    with pytest.raises(AuthError, match="a sales token may not carry a partner_id"):
        tokens.verify(forged)


def test_the_deals_api_takes_an_oidc_token_and_answers_401_to_a_sales_token_with_a_partner_id(idp, verifier):
    settings = DealsSettings.from_env(env={"DEALGATE_ENV": "production", "DEALGATE_OIDC_ISSUER": idp.issuer})
    limits = DealLimits()
    deals = Deals(settings=settings, engine=sa.create_engine("sqlite://"), bus=InMemoryBus(),
                  tokens=verifiers_for(settings), policy=DealPolicy(), limits=limits,
                  request_limiter=LocalRateLimiter(limits.requests_per_minute), uow_factory=FakeDealsUnitOfWork)
    client = create_app({"SETTINGS": settings, "TESTING": True}, deals=deals).test_client()
    ok = client.get("/v1/deals", headers={"Authorization": "Bearer " + idp.token()})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    refused = client.get("/v1/deals", headers={"Authorization": "Bearer " + idp.token(
        realm_access={"roles": ["sales"]}, channel=None)})
    assert refused.status_code == 401
    assert "may not carry a partner_id" in refused.get_json()["detail"]
    development_token = TokenService(Settings.from_env("deals", {}).jwt_secret).issue("admin")
    assert client.get("/v1/deals", headers={"Authorization": "Bearer " + development_token}).status_code == 401


def test_http_get_json_refuses_other_schemes():
    with pytest.raises(OSError):
        http_get_json("file:///etc/passwd")
