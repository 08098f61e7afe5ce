"""What a reader may see and find: search terms, the viewer's audience, and private-offer filtering.

Text is folded into search terms here, in Python, for both databases, so PostgreSQL's tsvector and
SQLite's FTS5 index the very same tokens and a query finds the same listings on either.
Standard library only.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

MAX_QUERY_TERMS = 8
_WORD = re.compile(r"[^\W_]+")
PUBLIC_AUDIENCE = "*"
# How much each field adds to a listing's relevance when it holds every query term (title first).
FIELD_WEIGHTS = {"title": 4, "tags": 2, "summary": 1}


def terms(text: str) -> list[str]:
    """Lower-case, accent-free words: "Zero-Trust Réseau" -> ["zero", "trust", "reseau"]."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(folded)


def query_terms(q: str | None) -> list[str]:
    """The distinct words of a search query, in order, at most MAX_QUERY_TERMS of them."""
    seen: list[str] = []
    for term in terms(q or ""):
        if term not in seen:
            seen.append(term)
    return seen[:MAX_QUERY_TERMS]


def searchable_fields(title: str, tags: Iterable[str], summary: str) -> dict[str, str]:
    """The text the search index holds for a listing: space-joined terms per field."""
    return {"title": " ".join(terms(title)), "tags": " ".join(t for tag in tags for t in terms(tag)),
            "summary": " ".join(terms(summary))}


@dataclasses.dataclass(frozen=True)
class ListingQuery:
    """What a reader asked for; `after` is the (score, seq) of the last listing on the previous page."""

    terms: tuple[str, ...] = ()
    category: str | None = None
    channel: str | None = None
    region: str | None = None
    status: str | None = None
    limit: int = 50
    after: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who is reading: admins see every listing and offer; everyone else published listings and the offers
    addressed to them (public ones, plus private ones whose private_to names their partner id or domain)."""

    sees_everything: bool = False
    audiences: tuple[str, ...] = (PUBLIC_AUDIENCE,)

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @classmethod
    def of(cls, *, role: str | None, partner_id: str | None = None, subject: str | None = None) -> Viewer:
        if role in ("admin", "desk"):
            return cls(sees_everything=True, audiences=())
        audiences = [PUBLIC_AUDIENCE]
        if partner_id:
            audiences.append(audience_key(partner_id))
        # A subject that is an e-mail address names the caller's organisation, so offers private to that
        # customer domain are theirs to see.
        if subject and "@" in subject:
            audiences.append(audience_key(subject.rsplit("@", 1)[1]))
        return cls(audiences=tuple(dict.fromkeys(audiences)))

    @property
    def cache_key(self) -> str:
        return "all" if self.sees_everything else "|".join(self.audiences)


def audience_key(private_to: str | None) -> str:
    return PUBLIC_AUDIENCE if private_to is None else private_to.strip().lower()


def offer_audience(offer: dict[str, Any]) -> str:
    return PUBLIC_AUDIENCE if offer.get("visibility", "public") == "public" else audience_key(offer.get("private_to"))


def visible_view(document: dict[str, Any], viewer: Viewer) -> dict[str, Any] | None:
    """The listing as this viewer may see it, or None when none of it is theirs to see."""
    if viewer.sees_everything:
        return document
    if document["status"] != "published":
        return None
    offers = [offer for offer in document["offers"] if offer_audience(offer) in viewer.audiences]
    if not offers:
        return None
    if len(offers) == len(document["offers"]):
        return document
    return {**document, "offers": offers}
