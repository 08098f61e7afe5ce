"""Normalised customer identifiers (registrable domain, name key, tax id, DUNS) for validation and the pre-check.

These mirror what conflict matches on, in a deliberately small form: deals needs exact keys to answer
"claimed" or "review", not conflict's fuzzy scoring. (Proposal: move the pure normalisers both services need
to shared/ so the two cannot drift.)
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LEGAL_FORMS = frozenset("""
ab ag as bv co company corp corporation gmbh inc incorporated kg kk limited llc llp lp ltd ltda nv oy plc pte
pty sa sarl sas spa srl
""".split())


class InvalidDomain(ValueError):
    pass


@functools.cache
def _extractor():
    import tldextract

    # The public suffix list bundled with tldextract: no network fetch and no cache directory at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=8192)  # a pure function, called 3 times per submission (validation, normalising, keys)
def registrable_domain(pasted: str) -> str:
    """The registrable domain (eTLD+1) of what people paste: "https://www.ACME.co.uk/about" -> "acme.co.uk"."""
    text = pasted.strip()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]  # a pasted e-mail address names its domain after the @
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname or ""
    except ValueError as exc:  # e.g. an unbalanced "[" or a port that is not a number
        raise InvalidDomain("This is not a valid domain name.") from exc
    host = host.rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")  # Bücher.de and xn--bcher-kva.de are the same domain
    except UnicodeError as exc:
        raise InvalidDomain("This is not a valid domain name.") from exc
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidDomain("Give the customer's web domain, such as acme.com.")
    extracted = _extractor()(host)
    if not extracted.suffix or not extracted.domain:
        raise InvalidDomain("Give the customer's web domain, such as acme.com, not a bare suffix.")
    return f"{extracted.domain}.{extracted.suffix}"


def name_key(name: str) -> str:
    """Case, accents, punctuation and legal forms folded: "Acme Widgets, Inc." and "ACME widgets" match."""
    # Dots go first so that "S.A." folds to the legal form "sa" rather than two stray letters.
    decomposed = unicodedata.normalize("NFKD", name.casefold().replace(".", ""))
    letters = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    words = [word for word in letters.split() if word not in _LEGAL_FORMS]
    return " ".join(words) or " ".join(letters.split())


def identifier_key(value: str) -> str:
    """Tax ids and DUNS numbers are compared without spaces, dots, dashes or case."""
    return "".join(c for c in value.upper() if c.isalnum())


def customer_keys(customer: dict[str, Any]) -> dict[str, str | None]:
    """A customer's normalised keys; `domain_normalised` is used when validation already computed it."""
    domain = customer.get("domain_normalised")
    if domain is None and customer.get("domain"):
        try:
            domain = registrable_domain(customer["domain"])
        except InvalidDomain:
            domain = None
    return dict(
        country=customer.get("country"),
        domain=domain,
        tax_id=identifier_key(customer["tax_id"])[:40] or None if customer.get("tax_id") else None,
        duns=identifier_key(customer["duns"])[:9] or None if customer.get("duns") else None,
        name=name_key(customer.get("name") or "")[:200] or None,
    )


def strong_match(a: dict[str, str | None], b: dict[str, str | None]) -> bool:
    """Same registrable domain, DUNS, or tax id in the same country: the same customer beyond doubt."""
    return bool((a["domain"] and a["domain"] == b["domain"]) or (a["duns"] and a["duns"] == b["duns"])
                or (a["tax_id"] and a["tax_id"] == b["tax_id"] and a["country"] == b["country"]))
