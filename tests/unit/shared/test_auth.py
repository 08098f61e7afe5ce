import datetime as dt

import jwt
import pytest

from shared.auth import AuthError, TokenService, parse_ttl

SECRET = "unit-test-secret-0123456789abcdef0123456789"


def test_issued_token_verifies_to_the_same_principal():
    tokens = TokenService(SECRET)
    principal = tokens.verify(tokens.issue("partner", partner_id="p-1", channel="msp"))
    assert (principal.role, principal.partner_id, principal.channel) == ("partner", "p-1", "msp")
    assert tokens.verify(tokens.issue("sales")).owner_key == "direct"


@pytest.mark.parametrize("role, kwargs, message", [
    ("partner", {}, "partner-id"),
    ("partner", {"partner_id": "p", "channel": "direct"}, "cannot carry"),
    ("wizard", {}, "role must be"),
])
def test_issue_refuses_inconsistent_claims(role, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TokenService(SECRET).issue(role, **kwargs)


def _forge(claims, key=SECRET, algorithm="HS256"):
    base = {"sub": "x", "role": "partner", "partner_id": "p-1", "iss": "dealgate",
            "exp": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}
    base.update(claims)
    return jwt.encode(base, key, algorithm=algorithm)


@pytest.mark.parametrize("token", [
    _forge({"exp": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)}),  # expired
    _forge({}, key="another-secret-0123456789abcdef0123456789"),  # wrong signature
    _forge({"role": "root"}),  # unknown role
    _forge({"role": "partner", "partner_id": None}),  # partner without partner id
    _forge({"iss": "someone-else"}),
    "not-a-jwt",
])
def test_bad_tokens_are_refused(token):
    with pytest.raises(AuthError):
        TokenService(SECRET).verify(token)


def test_alg_none_and_tampered_payload_are_refused():
    tokens = TokenService(SECRET)
    unsigned = jwt.encode({"sub": "x", "role": "admin", "iss": "dealgate", "exp": 9999999999}, None,
                          algorithm="none")
    with pytest.raises(AuthError):
        tokens.verify(unsigned)
    header, payload, signature = tokens.issue("partner", partner_id="p-1").split(".")
    other = tokens.issue("admin").split(".")[1]
    with pytest.raises(AuthError):
        tokens.verify(".".join([header, other, signature]))


def test_a_token_checked_once_still_expires_on_time():
    now = [dt.datetime.now(dt.UTC).timestamp()]
    tokens = TokenService(SECRET, clock=lambda: now[0])
    token = tokens.issue("partner", partner_id="p-1", ttl=dt.timedelta(minutes=5))
    assert tokens.verify(token).partner_id == "p-1"
    assert tokens.verify(token).partner_id == "p-1", "the second use is served from the cache of checked tokens"
    now[0] += 5 * 60 + 1
    with pytest.raises(AuthError, match="expired"):
        tokens.verify(token)


def test_a_refused_token_is_refused_again_not_remembered_as_good():
    tokens = TokenService(SECRET)
    forged = _forge({}, key="another-secret-0123456789abcdef0123456789")
    for _ in range(2):
        with pytest.raises(AuthError):
            tokens.verify(forged)


def test_ttl_parsing():
    assert parse_ttl("90m") == dt.timedelta(minutes=90)
    assert parse_ttl("7d") == dt.timedelta(days=7)
    with pytest.raises(ValueError):
        parse_ttl("soon")
