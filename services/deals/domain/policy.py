"""The protection and extension policy; defaults follow SPEC section 5 and can be tuned per deployment."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class DealPolicy:
    protection: dt.timedelta = dt.timedelta(days=90)
    extension: dt.timedelta = dt.timedelta(days=30)
    extension_window: dt.timedelta = dt.timedelta(days=14)
    max_extensions: int = 1

    @classmethod
    def from_settings(cls, extra: Mapping[str, str]) -> DealPolicy:
        """Reads DEALS_PROTECTION_DAYS, DEALS_EXTENSION_DAYS, DEALS_EXTENSION_WINDOW_DAYS, DEALS_MAX_EXTENSIONS."""
        return cls(
            protection=dt.timedelta(days=int(extra.get("protection_days", 90))),
            extension=dt.timedelta(days=int(extra.get("extension_days", 30))),
            extension_window=dt.timedelta(days=int(extra.get("extension_window_days", 14))),
            max_extensions=int(extra.get("max_extensions", 1)),
        )
