"""HTTP caching for listing reads: ETags, the Cache-Control policy, page cursors and a cache of rendered pages.

A page's ETag is derived from the catalog revision and the request, not from the body, so a revalidation
(If-None-Match) costs one single-row read and no search. That is exact because every listing write bumps the
revision in its own transaction, and a page is a pure function of (revision, viewer, query).
"""
from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import threading

# Anonymous reads may sit in a CDN briefly; anything read with a token is the caller's own and is revalidated.
PUBLIC_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60"
PRIVATE_CACHE_CONTROL = "private, no-cache"
NO_STORE = "no-store"


def page_etag(revision: int, request_key: str) -> str:
    digest = hashlib.blake2b(request_key.encode(), digest_size=12).hexdigest()
    return f'"r{revision}-{digest}"'


def listing_etag(document: dict, full_document_version: bool) -> str:
    """The version is the ETag an admin sends back in If-Match; a view with some offers hidden gets its own."""
    if full_document_version:
        return f'"{document["version"]}"'
    offers = ",".join(offer["id"] for offer in document["offers"])
    return f'"{document["version"]}-{hashlib.blake2b(offers.encode(), digest_size=6).hexdigest()}"'


def encode_cursor(after: tuple[int, int] | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(f"{after[0]}.{after[1]}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, int] | None:
    """Raises ValueError for anything that is not a cursor this service handed out."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        score, seq = text.split(".")
        return int(score), int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor from a previous page") from exc


class PageCache:
    """Rendered pages by ETag, least recently used out first. Entries never go stale: a new revision means a
    new ETag, and old ones simply age out."""

    def __init__(self, max_entries: int = 2048):
        self._max_entries = max_entries
        self._entries: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._entries.get(etag)
            if body is not None:
                self._entries.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if self._max_entries <= 0:
            return
        with self._lock:
            self._entries[etag] = body
            self._entries.move_to_end(etag)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
