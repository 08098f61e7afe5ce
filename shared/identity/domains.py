"""Registrable-domain extraction for customer identity: URL/host/e-mail in, eTLD+1 out.

Uses tldextract's bundled Public Suffix List snapshot (no network), and knows free-mail providers: a free-mail
domain is never a customer key (SPEC: "A free-mail domain is never evidence that a customer is claimed").
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import tldextract

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST_CHARS = re.compile(r"^[a-z0-9.-]+$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# RFC 1035 labels: 1 to 63 letters, digits and hyphens, neither first nor last a hyphen.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidDomain(ValueError):
    """What was given names no web domain; the message is written for the person who typed it."""


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() + cache_dir=None: use the snapshot shipped in the wheel, never fetch or write.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _data_lines(filename: str) -> frozenset[str]:
    text = resources.files("shared.identity").joinpath("data", filename).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )


@functools.cache
def free_mail_domains() -> frozenset[str]:
    return _data_lines("free_mail_domains.txt")


@functools.cache
def free_mail_brands() -> frozenset[str]:
    return _data_lines("free_mail_brands.txt")


def host_of(value: str | None) -> str | None:
    """The bare lower-case host from a pasted URL, host name or e-mail address; None if unusable."""
    if not value:
        return None
    text = value.strip().lower()
    if not text:
        return None
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#\s]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]  # user:pass@host
    text = text.split(":", 1)[0]  # port
    text = text.strip(".")
    if not text.isascii():
        # Internationalised names are compared in their punycode form, so both spellings agree.
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not text or not _HOST_CHARS.match(text) or _IPV4.match(text) or "." not in text:
        return None
    if len(text) > 253 or not all(_LABEL.match(label) for label in text.split(".")):
        return None
    return text


def _registrable(host: str) -> str | None:
    # Private PSL entries (github.io, blogspot.com, azurewebsites.net, ...) are included on purpose:
    # two tenants of a hosting platform are different customers.
    parts = _extractor()(host, include_psl_private_domains=True)
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}"


def is_free_mail(domain: str) -> bool:
    """True when the domain (any host under it) belongs to a consumer mail provider."""
    host = host_of(domain)
    if host is None:
        return False
    registrable = _registrable(host) or host
    if registrable in free_mail_domains() or host in free_mail_domains():
        return True
    return registrable.split(".", 1)[0] in free_mail_brands()


@functools.lru_cache(maxsize=8192)  # pure; deals asks up to three times per submission, conflict per comparison
def web_domain(value: str) -> str:
    """The registrable domain (eTLD+1) of a pasted URL, host name or e-mail address, free-mail providers included:
    "https://www.ACME.co.uk/about" -> "acme.co.uk". Raises InvalidDomain when it names none."""
    host = host_of(value)
    if host is None:
        raise InvalidDomain("Give the customer's web domain, such as acme.com.")
    registrable = _registrable(host)
    if registrable is None:
        raise InvalidDomain("Give the customer's web domain, such as acme.com, not a bare suffix.")
    return registrable


@functools.lru_cache(maxsize=8192)
def registrable_domain(value: str | None) -> str | None:
    """Registrable domain (eTLD+1) from a URL, host or e-mail; None if empty, invalid or free-mail."""
    host = host_of(value)
    if host is None:
        return None
    registrable = _registrable(host)
    if registrable is None or is_free_mail(registrable):
        return None
    return registrable


def domain_label(registrable: str) -> str:
    """The part of a registrable domain left of the public suffix: "acme" for "acme.co.uk"."""
    return registrable.split(".", 1)[0]
