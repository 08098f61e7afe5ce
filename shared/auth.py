"""JWT bearer tokens: issuing (for the CLI and tests), verifying, and role checks inside Flask views.

Two kinds of token are accepted, told apart by the algorithm in their header:
- HS256 tokens signed with DEALGATE_JWT_SECRET (TokenService): the development tokens `make run` prints, and in
  production only with a secret of the operator's own (see shared.config.identity_values);
- RS256 and ES256 tokens from an OpenID Connect issuer (OidcVerifier), checked against the keys it publishes.
Whoever signed a token, the same rules hold for what it carries (see principal_from_claims).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import jwt
from flask import g, request
from webargs.flaskparser import abort  # what flask_smorest re-exports, with its NoReturn type

if TYPE_CHECKING:
    from shared.config import Settings

ROLES = ("partner", "marketplace", "sales", "desk", "admin")
CHANNELS = ("reseller", "distributor", "msp", "marketplace", "direct")
ALGORITHM = "HS256"
# Which channels a role may carry, and the one it gets when none is given.
ROLE_CHANNELS = {
    "partner": ("reseller", "distributor", "msp"),
    "marketplace": ("marketplace",),
    "sales": ("direct",),
    "desk": (),
    "admin": (),
}
DEFAULT_CHANNEL = {"partner": "reseller", "marketplace": "marketplace", "sales": "direct"}
# Only these roles act for a partner; any other token that names one is refused (it would be ambiguous whose it is).
PARTNER_ROLES = ("partner", "marketplace")
_TTL = re.compile(r"^(\d+)([smhd])$")


class AuthError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    partner_id: str | None = None
    channel: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in ("desk", "admin")

    @property
    def owner_key(self) -> str:
        """The partner a registration belongs to; direct sales count as one partner."""
        return self.partner_id or ("direct" if self.channel == "direct" else self.sub)


def parse_ttl(text: str) -> dt.timedelta:
    match = _TTL.match(text.strip())
    if not match:
        raise ValueError(f"TTL must look like 30m, 1h or 7d, not {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    return dt.timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


class TokenService:
    def __init__(self, secret: str, issuer: str = "dealgate", *, cache_size: int = 4096,
                 clock: Callable[[], float] = time.time):
        self._secret = secret
        self._issuer = issuer
        self._clock = clock
        # A client sends the same token with every request: checking its signature and claims once is enough,
        # as long as each use still checks the expiry. Failures are never cached (they raise).
        self._checked = functools.lru_cache(maxsize=cache_size)(self._check)

    def issue(self, role: str, *, partner_id: str | None = None, channel: str | None = None,
              ttl: dt.timedelta = dt.timedelta(hours=1), sub: str | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role in PARTNER_ROLES and not partner_id:
            raise ValueError(f"a {role} token needs --partner-id")
        if role not in PARTNER_ROLES and partner_id:
            raise ValueError(f"{'an' if role == 'admin' else 'a'} {role} token cannot carry a partner id "
                             "(only partner and marketplace tokens do)")
        channel = channel or DEFAULT_CHANNEL.get(role)
        if channel is not None and channel not in ROLE_CHANNELS[role]:
            allowed = ", ".join(ROLE_CHANNELS[role]) or "none"
            raise ValueError(f"a {role} token cannot carry channel {channel!r} (allowed: {allowed})")
        now = dt.datetime.now(dt.UTC)
        claims = {
            "sub": sub or (f"{role}:{partner_id}" if partner_id else f"{role}:{uuid.uuid4().hex[:8]}"),
            "role": role,
            "iss": self._issuer,
            "iat": now,
            "exp": now + ttl,
        }
        if partner_id:
            claims["partner_id"] = partner_id
        if channel:
            claims["channel"] = channel
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        principal, expires_at = self._checked(token)
        if self._clock() >= expires_at:
            raise AuthError("the token has expired")
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=self._issuer,
                                options={"require": ["exp", "sub", "role", "iss"]})
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthError("the token is not valid") from exc
        principal = principal_from_claims(claims["sub"], claims.get("role"), claims.get("partner_id"),
                                          claims.get("channel"))
        return principal, float(claims["exp"])


def principal_from_claims(sub: object, role: object, partner_id: object, channel: object) -> Principal:
    """Who a verified token speaks for, by the rules every token obeys whoever signed it: a known role; a partner_id
    on partner and marketplace tokens and on no other; a channel the role may use (or the role's default)."""
    if not isinstance(role, str) or role not in ROLES:
        raise AuthError("the token carries an unknown role")
    if partner_id is not None and not isinstance(partner_id, str):
        raise AuthError("the token's partner_id is not a string")
    if role in PARTNER_ROLES and not partner_id:
        raise AuthError(f"a {role} token must carry a partner_id")
    if role not in PARTNER_ROLES and partner_id is not None:
        raise AuthError(f"{'an' if role == 'admin' else 'a'} {role} token may not carry a partner_id")
    if channel is not None and channel not in ROLE_CHANNELS[role]:
        raise AuthError("the token carries a channel its role may not use")
    if role in DEFAULT_CHANNEL and channel is None:
        channel = DEFAULT_CHANNEL[role]
    if not isinstance(sub, str) or not sub:
        raise AuthError("the token names no subject")
    return Principal(sub=sub, role=role, partner_id=partner_id, channel=channel if isinstance(channel, str) else None)


class TokenVerifier(Protocol):
    """Anything that turns a bearer token into a Principal or raises AuthError."""

    def verify(self, token: str) -> Principal: ...


# --- OpenID Connect ------------------------------------------------------------------------------------------

OIDC_ALGORITHMS = ("RS256", "ES256")
# The browser half of single sign-on (authorization code + PKCE), one file that the desk and the portal both serve.
BROWSER_SIGN_IN_SCRIPT = Path(__file__).resolve().parent / "data" / "web" / "oidc.js"
JsonGetter = Callable[[str], Any]


def http_get_json(url: str, timeout_s: float = 5.0) -> Any:
    """GET a JSON document; redirects are not followed (an issuer's documents are where it says they are)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    if not url.startswith(("https://", "http://")):
        raise OSError(f"not an http(s) URL: {url!r}")
    opener = urllib.request.build_opener(NoRedirect())
    request_ = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only
    with opener.open(request_, timeout=timeout_s) as response:
        return json.load(response)


@dataclasses.dataclass(frozen=True)
class ClaimNames:
    """Which claims carry the role, the partner id and the channel (Keycloak's defaults: realm roles, and plain
    partner_id and channel claims set by mappers). A name is a top-level claim or a dotted path into one."""

    role: str = "realm_access.roles"
    partner_id: str = "partner_id"
    channel: str = "channel"


def claim_value(claims: Mapping[str, Any], name: str) -> Any:
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def role_from_claim(value: Any) -> str:
    """The one Dealgate role a claim names: a string, or a list (such as Keycloak's realm roles) holding exactly one
    of ours besides any others (offline_access, default-roles-...)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        ours = sorted({item for item in value if isinstance(item, str) and item in ROLES})
        if len(ours) == 1:
            return ours[0]
        if ours:
            raise AuthError(f"the token carries more than one Dealgate role ({', '.join(ours)})")
    raise AuthError("the token carries no Dealgate role")


class OidcProvider:
    """An issuer's metadata (its /.well-known/openid-configuration) and signing keys (its JWKS), fetched when first
    needed and kept. A token naming a key id that is not among the keys fetches them again, so that the issuer can
    rotate its keys without a restart here; at most once every `refresh_interval_s`, so that tokens with made-up key
    ids cannot turn into a stream of requests to the issuer. The keys are fetched afresh after `max_age_s` too,
    so that a key the issuer withdrew stops being accepted."""

    def __init__(self, issuer: str, *, get_json: JsonGetter = http_get_json,
                 clock: Callable[[], float] = time.monotonic, refresh_interval_s: float = 2.0,
                 max_age_s: float = 3600.0):
        self.issuer = issuer.rstrip("/")
        self._get_json = get_json
        self._clock = clock
        self._refresh_interval_s = refresh_interval_s
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # the last successful fetch of the keys
        self._tried_at: float | None = None  # the last attempt, successful or not
        self.fetches = 0  # how often the keys were fetched (for tests and logs)

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            return self._metadata_locked()

    def _metadata_locked(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                document = self._get_json(url)
            except (OSError, ValueError) as exc:
                raise AuthError("the identity provider cannot be reached to check the token") from exc
            if not isinstance(document, dict) or document.get("issuer") != self.issuer \
                    or not isinstance(document.get("jwks_uri"), str):
                raise AuthError("the identity provider's metadata does not name this issuer and its keys")
            self._metadata = document
        return self._metadata

    def signing_key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age_s
            may_refresh = self._tried_at is None or now - self._tried_at >= self._refresh_interval_s
            if (stale or kid not in self._keys) and may_refresh:
                self._fetch_keys(now)
            key = self._keys.get(kid)
        if key is None:
            raise AuthError("the token is signed with a key the identity provider does not publish")
        return key

    def _fetch_keys(self, now: float) -> None:
        self._tried_at = now
        metadata = self._metadata_locked()
        try:
            document = self._get_json(metadata["jwks_uri"])
        except (OSError, ValueError) as exc:
            if self._keys:
                return  # keep the keys we have: an outage of the issuer is no reason to refuse every token
            raise AuthError("the identity provider cannot be reached to check the token") from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not isinstance(entry.get("kid"), str):
                continue  # encryption keys, and keys no token could name
            if entry.get("alg") is not None and entry.get("alg") not in OIDC_ALGORITHMS:
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWTError:
                continue  # a key type or curve we do not take
        self._keys = keys
        self._fetched_at = now
        self.fetches += 1


class OidcVerifier:
    """RS256 and ES256 access tokens from one OpenID Connect issuer: signed by a key it publishes, `iss` the issuer,
    `aud` naming `audience`, `exp` and `iat` present and the lifetime between them at most `max_lifetime_s`."""

    def __init__(self, provider: OidcProvider, audience: str, *, claims: ClaimNames | None = None,
                 max_lifetime_s: int = 3600, leeway_s: int = 30, cache_size: int = 4096,
                 clock: Callable[[], float] = time.time):
        self.provider = provider
        self._audience = audience
        self._claims = claims or ClaimNames()
        self._max_lifetime_s = max_lifetime_s
        self._leeway_s = leeway_s
        self._clock = clock
        # As with TokenService: a token's signature and claims are checked once, its expiry at every use.
        self._checked = functools.lru_cache(maxsize=cache_size)(self._check)

    def verify(self, token: str) -> Principal:
        principal, expires_at = self._checked(token)
        if self._clock() >= expires_at + self._leeway_s:
            raise AuthError("the token has expired")
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("the token is not valid") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in OIDC_ALGORITHMS:
            raise AuthError("the token is not signed with RS256 or ES256")
        if not isinstance(kid, str):
            raise AuthError("the token names no signing key (kid)")
        key = self.provider.signing_key(kid)
        try:
            claims = jwt.decode(token, key.key, algorithms=[algorithm], audience=self._audience,
                                issuer=self.provider.issuer, leeway=self._leeway_s,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError(f"the token is not meant for {self._audience} (aud)") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("the token comes from another issuer") from exc
        except jwt.PyJWTError as exc:
            raise AuthError("the token is not valid") from exc
        issued_at, expires_at = float(claims["iat"]), float(claims["exp"])
        if issued_at > self._clock() + self._leeway_s:
            raise AuthError("the token is issued in the future")
        if expires_at - issued_at > self._max_lifetime_s:
            raise AuthError(f"the token lives longer than the {self._max_lifetime_s} s allowed")
        role = role_from_claim(claim_value(claims, self._claims.role))
        principal = principal_from_claims(claims["sub"], role, claim_value(claims, self._claims.partner_id),
                                          claim_value(claims, self._claims.channel))
        return principal, expires_at


class Verifiers:
    """The verifiers a process accepts, each for the algorithms it checks: a token goes to the one its header names
    (HS256 to TokenService, RS256/ES256 to OidcVerifier); any other, or one whose verifier is off, is refused."""

    def __init__(self, hs256: TokenService | None = None, oidc: OidcVerifier | None = None):
        self.hs256 = hs256
        self.oidc = oidc

    def verify(self, token: str) -> Principal:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise AuthError("the token is not valid") from exc
        if algorithm == ALGORITHM and self.hs256 is not None:
            return self.hs256.verify(token)
        if algorithm in OIDC_ALGORITHMS and self.oidc is not None:
            return self.oidc.verify(token)
        raise AuthError("the token is not valid")


def verifiers_for(settings: Settings, *, get_json: JsonGetter = http_get_json) -> Verifiers:
    """What a service accepts, from its settings: HS256 while enabled, OIDC when an issuer is configured."""
    oidc = None
    if settings.oidc_issuer:
        oidc = OidcVerifier(OidcProvider(settings.oidc_issuer, get_json=get_json), settings.oidc_audience,
                            claims=ClaimNames(settings.oidc_role_claim, settings.oidc_partner_id_claim,
                                              settings.oidc_channel_claim),
                            max_lifetime_s=settings.oidc_max_token_lifetime_s)
    hs256 = TokenService(settings.jwt_secret, settings.jwt_issuer) if settings.hs256_enabled else None
    return Verifiers(hs256, oidc)


# --- Flask integration -----------------------------------------------------------------------------

ANONYMOUS_ATTRIBUTE = "_dealgate_allow_anonymous"
ViewT = TypeVar("ViewT", bound=Callable[..., Any])


def allow_anonymous(view: ViewT) -> ViewT:
    """Mark a view (function or MethodView method) as readable without a token."""
    setattr(view, ANONYMOUS_ATTRIBUTE, True)
    return view


def view_allows_anonymous(view_function: Callable[..., Any] | None, method: str, endpoint: str | None = None,
                          public_endpoints: frozenset[str] = frozenset()) -> bool:
    if endpoint in public_endpoints:
        return True
    if view_function is None:
        return True  # unknown route: let routing answer 404/405 instead of 401
    if getattr(view_function, ANONYMOUS_ATTRIBUTE, False):
        return True
    view_class = getattr(view_function, "view_class", None)
    handler = getattr(view_class, method.lower(), None) if view_class else None
    return bool(handler and getattr(handler, ANONYMOUS_ATTRIBUTE, False))


def authenticate_request(tokens: TokenVerifier, view_function: Callable[..., Any] | None,
                         public_endpoints: frozenset[str] = frozenset()) -> None:
    """Set g.principal from the bearer token; 401 when it is missing (on a protected view) or bad."""
    g.principal = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            abort(401, message="Authorization must be 'Bearer <token>'.", headers={"WWW-Authenticate": "Bearer"})
        try:
            g.principal = tokens.verify(token.strip())
        except AuthError as exc:
            abort(401, message=str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    elif not view_allows_anonymous(view_function, request.method, request.endpoint, public_endpoints):
        abort(401, message="This endpoint needs a bearer token.", headers={"WWW-Authenticate": "Bearer"})


def current_principal() -> Principal | None:
    return getattr(g, "principal", None)


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse other roles before the body is even parsed: put it above @blp.arguments, so a caller who may not
    use the endpoint learns 403, not what a valid body looks like."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            require_roles(*roles)
            return view(*args, **kwargs)
        return checked
    return decorate


def require_roles(*roles: str) -> Principal:
    principal = current_principal()
    if principal is None:
        abort(401, message="This endpoint needs a bearer token.", headers={"WWW-Authenticate": "Bearer"})
    if principal.role not in roles:
        abort(403, message=f"The {principal.role} role may not do this.")
    return principal
