"""Idempotent submission, as Stripe made the norm: one key per partner, kept 24 h, replayed exactly."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

IN_FLIGHT = "in_flight"
DONE = "done"


@dataclasses.dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    state: str
    created_at: dt.datetime
    # The acknowledged registration as JSON text, byte for byte, so that a replay is indistinguishable from it.
    response: str | None = None


class IdempotencyConflict(Exception):
    """The key was used with another body, or its first request has not finished; the message says which."""


def request_fingerprint(body: Any) -> str:
    """Equal JSON documents hash equally whatever their key order or whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def judge(existing: IdempotencyRecord, request_hash: str) -> str:
    """What a request whose key is already taken gets: the replay, or an IdempotencyConflict."""
    if existing.request_hash != request_hash:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request body.")
    if existing.state != DONE or existing.response is None:
        raise IdempotencyConflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    return existing.response
