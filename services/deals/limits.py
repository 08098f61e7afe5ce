"""Per-partner rate limits: a cheap per-process limiter for every call, a shared one for the pre-check.

The tradeoff: the per-process fixed window costs nothing on the submit path but lets a partner make
(limit x API processes) calls; that is acceptable as an overload guard. The pre-check is the one call whose
limit protects data (it must not serve to enumerate other partners' accounts), so its counter lives in the
database and holds across every gunicorn worker and instance, for one upsert per pre-check.
"""
from __future__ import annotations

import dataclasses
import threading
import time


@dataclasses.dataclass(frozen=True)
class DealLimits:
    requests_per_minute: int = 3000
    checks_per_minute: int = 30
    idempotency_ttl_s: int = 24 * 3600
    # An in-flight idempotency record older than this belongs to a request whose process died: take it over.
    idempotency_abandoned_after_s: int = 60


class RateLimited(Exception):
    def __init__(self, retry_after_s: int):
        super().__init__(f"Too many requests; retry in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


def window_of(now_s: float, period_s: int = 60) -> tuple[int, int]:
    """The fixed window `now_s` falls in, and the whole seconds until the next one starts (at least 1)."""
    window = int(now_s // period_s)
    return window, max(1, int((window + 1) * period_s - now_s + 0.999))


class LocalRateLimiter:
    """Fixed one-minute windows per key, in this process only (see the module docstring for why)."""

    def __init__(self, per_minute: int, clock=time.time):
        self._per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> None:
        if self._per_minute <= 0:
            return
        window, retry_after = window_of(self._clock())
        with self._lock:
            if window != self._window:  # a new minute: forget the old one, so memory stays bounded
                self._window, self._counts = window, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count > self._per_minute:
            raise RateLimited(retry_after)
