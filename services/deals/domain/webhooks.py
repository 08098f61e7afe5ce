"""Webhooks as the Standard Webhooks specification defines them (https://www.standardwebhooks.com/): what an
endpoint may be, how a message is signed, which registration events become which webhook, and when a failed
delivery is tried again. No I/O here: the resolver and the clock are passed in.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import random
import secrets
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix the specification gives secrets, not a secret
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes
ROTATION_OVERLAP = dt.timedelta(hours=24)  # after a rotation, the previous secret signs too for this long

EVENT_TYPES = ("deal.approved", "deal.in_conflict", "deal.rejected", "deal.expiring", "deal.expired")
EXPIRING_NOTICE = dt.timedelta(days=7)  # deal.expiring is sent this long before protection ends

# The reference implementation's schedule (spec "Deliverability and reliability"): the delay before each retry.
# The first attempt is immediate; ten attempts span 75 h 35 min, about 3 days.
RETRY_DELAYS = (dt.timedelta(seconds=5), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
                dt.timedelta(hours=2), dt.timedelta(hours=5), dt.timedelta(hours=10), dt.timedelta(hours=14),
                dt.timedelta(hours=20), dt.timedelta(hours=24))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # each delay is stretched by up to 10 %, so retries after an outage do not arrive all at once

# An endpoint failing without a single success for as long as a whole retry schedule is disabled.
DISABLE_AFTER = sum(RETRY_DELAYS, dt.timedelta())

MAX_URL_LENGTH = 2048
RESPONSE_EXCERPT_BYTES = 512  # the most of a receiver's answer that is ever read and kept


class WebhookError(Exception):
    """A request about webhooks that cannot be honoured; the message is written for the partner."""


class UnsafeUrl(WebhookError):
    pass


# -- secrets and signatures -------------------------------------------------------------------------------------

def new_secret(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret (base64, padding optional as the reference libraries accept it)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")): one entry of the webhook-signature header."""
    digest = hmac.new(secret_key(secret), f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: str) -> str:
    """Space-separated signatures, one per secret in use (the new one first during a rotation)."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use)


def verify(secret: str, headers: dict[str, str], body: str, *, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver does: some v1 signature matches, and the timestamp is within the tolerance."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        message_id, timestamp = lowered["webhook-id"], int(lowered["webhook-timestamp"])
        offered = lowered["webhook-signature"].split(" ")
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def new_message_id() -> str:
    """webhook-id: unique per message and the same on every attempt, so a receiver can drop duplicates."""
    return "msg_" + uuid.uuid4().hex


# -- endpoint URLs and the addresses they reach ---------------------------------------------------------------

Resolver = Callable[[str, int], list[str]]  # host, port -> IP addresses


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a URL leads: its parts, and the addresses it resolved to (connect to these, not to the name again)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def check_url(url: str, *, development: bool, resolve: Resolver) -> Target:
    """The rule for an endpoint URL, applied when it is registered and again before every delivery.

    - https, always outside development; plain http is accepted in development, or for a loopback host;
    - no user name or password in it, a host name, at most 2048 characters;
    - outside development every address the host resolves to must be public: private, loopback, link-local,
      multicast and reserved addresses are refused (the host must not become a way into our own network).
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"Use a URL of at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("This is not a valid URL.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("Use an https:// URL with a host name.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Leave user names and passwords out of the URL; the signature authenticates us.")
    if parts.fragment:
        raise UnsafeUrl("Leave the #fragment out of the URL.")
    host = parts.hostname
    try:
        addresses = tuple(resolve(host, port))
    except OSError:
        raise UnsafeUrl(f"The host {host} does not resolve.") from None
    if not addresses:
        raise UnsafeUrl(f"The host {host} does not resolve.")
    loopback = all(ipaddress.ip_address(a).is_loopback for a in addresses)
    if parts.scheme == "http" and not (development or loopback):
        raise UnsafeUrl("Use https://; plain http is accepted only in development or for a loopback host.")
    if not development and not all(is_public_address(a) for a in addresses):
        raise UnsafeUrl(f"The host {host} resolves to a private, loopback or link-local address; "
                        "webhooks go to public addresses only.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)


# -- which events become webhooks, and what they carry --------------------------------------------------------

# The fields of a registration a webhook carries: the partner's own business data and where it stands. The
# contact and the notes (personal data) stay in deals; nothing in a registration names a competitor, and the
# reasons are written for the partner, as the API shows them.
PAYLOAD_FIELDS = ("id", "status", "reason", "partner_id", "channel", "customer", "products", "amount",
                  "expected_close", "opportunity_name", "submitted_at", "protection_until", "case_ref",
                  "extensions_used", "version")


def webhook_type(event_type: str, data: dict[str, Any]) -> str | None:
    """The webhook a deals event becomes, if any. in_conflict travels as deal.updated with that status."""
    if event_type in ("deal.approved", "deal.rejected", "deal.expired"):
        return event_type
    if event_type == "deal.updated" and data.get("status") == "in_conflict":
        return "deal.in_conflict"
    return None


def dedup_key(webhook: str, data: dict[str, Any], event_id: str) -> str:
    """One message per endpoint per fact: a registration enters a case once (repeated deal.updated events while
    it stays in that case are one fact), and is expiring once per protection end."""
    if webhook == "deal.in_conflict":
        return f"{webhook}:{data['id']}:{data.get('case_ref') or ''}"
    if webhook == "deal.expiring":
        return f"{webhook}:{data['id']}:{data.get('protection_until') or ''}"
    return f"{webhook}:{event_id}"


def payload(webhook: str, registration: dict[str, Any], *, at: dt.datetime) -> str:
    """The body, as sent and signed: {type, timestamp, data} minified (the specification's payload shape)."""
    data = {name: registration.get(name) for name in PAYLOAD_FIELDS}
    document = {"type": webhook, "timestamp": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


# -- retries ----------------------------------------------------------------------------------------------------

def next_attempt_at(attempts_made: int, now: dt.datetime, *, retry_after_s: float | None = None,
                    rand: Callable[[], float] = random.random) -> dt.datetime | None:
    """When to try again after `attempts_made` failed attempts; None once the schedule is spent.

    The reference delay, stretched by up to JITTER, and never sooner than a Retry-After the receiver asked for.
    """
    if attempts_made >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts_made - 1] * (1 + JITTER * rand())
    if retry_after_s is not None:
        delay = max(delay, dt.timedelta(seconds=min(retry_after_s, 24 * 3600)))
    return now + delay


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300
