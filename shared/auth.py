"""JWT bearer tokens: issuing (for the CLI and tests), verifying, and role checks inside Flask views."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import jwt
from flask import g, request
from webargs.flaskparser import abort  # what flask_smorest re-exports, with its NoReturn type

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
        if role in ("partner", "marketplace") and not partner_id:
            raise ValueError(f"a {role} token needs --partner-id")
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
        role = claims.get("role")
        if role not in ROLES:
            raise AuthError("the token carries an unknown role")
        partner_id = claims.get("partner_id")
        channel = claims.get("channel")
        if role in ("partner", "marketplace") and not (isinstance(partner_id, str) and partner_id):
            raise AuthError(f"a {role} token must carry a partner_id")
        if channel is not None and channel not in ROLE_CHANNELS[role]:
            raise AuthError("the token carries a channel its role may not use")
        if role in DEFAULT_CHANNEL and channel is None:
            channel = DEFAULT_CHANNEL[role]
        principal = Principal(sub=str(claims["sub"]), role=role, partner_id=partner_id, channel=channel)
        return principal, float(claims["exp"])


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


def authenticate_request(tokens: TokenService, view_function: Callable[..., Any] | None,
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
