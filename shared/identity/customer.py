"""A customer's exact keys and when two customers are one beyond doubt: what deals stores, queries and answers its
pre-check with. Built from the same normalisers conflict's matching scores with, so the two cannot drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .domains import registrable_domain
from .identifiers import normalise_duns, normalise_tax_id, same_tax_id
from .names import normalise_name

CustomerKeys = dict[str, str | None]  # country, domain, tax_id, duns, name

# The widths of deals' query columns.
_TAX_ID_LENGTH = 40
_NAME_KEY_LENGTH = 200


def name_key(name: str) -> str:
    """A company name's comparison tokens as one string: case, accents, punctuation, legal forms, division tags
    and abbreviations folded, so "Acme Widgets, Inc." and "ACME WIDGETS GMBH" both give "acme widgets"."""
    return " ".join(normalise_name(name).tokens)


def customer_keys(customer: Mapping[str, Any]) -> CustomerKeys:
    """A customer's normalised keys. `domain` is None for a free-mail domain: it names a mail provider, not the
    customer, and two strangers on gmail.com are not one customer."""
    tax_id = normalise_tax_id(customer.get("tax_id"))
    return dict(
        country=customer.get("country"),
        domain=registrable_domain(customer.get("domain")),
        tax_id=tax_id[:_TAX_ID_LENGTH] if tax_id else None,
        duns=normalise_duns(customer.get("duns")),
        name=name_key(customer.get("name") or "")[:_NAME_KEY_LENGTH] or None,
    )


def strong_match(a: CustomerKeys, b: CustomerKeys) -> bool:
    """Same registrable domain, same DUNS, or the same tax id in the same country: one customer beyond doubt.
    (These are the identifiers conflict's matching weighs heaviest.)"""
    if a["domain"] and a["domain"] == b["domain"]:
        return True
    if a["duns"] and a["duns"] == b["duns"]:
        return True
    return bool(a["tax_id"] and b["tax_id"] and a["country"] == b["country"] and same_tax_id(a["tax_id"], b["tax_id"]))
