"""The protection and extension policy; defaults follow SPEC section 5, tuned per deployment (DealsSettings)."""
from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class DealPolicy:
    protection: dt.timedelta = dt.timedelta(days=90)
    extension: dt.timedelta = dt.timedelta(days=30)
    extension_window: dt.timedelta = dt.timedelta(days=14)
    max_extensions: int = 1
