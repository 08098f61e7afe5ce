"""The catalog service's settings: the shared ones plus its page cache, checked at start-up."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from shared.config import Settings, read_int


@dataclasses.dataclass(frozen=True)
class CatalogSettings(Settings):
    SERVICE: ClassVar[str] = "catalog"

    page_cache_entries: int = 2048  # CATALOG_PAGE_CACHE_ENTRIES: rendered search pages kept per API process

    @classmethod
    def service_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        return dict(page_cache_entries=read_int(env, "CATALOG_PAGE_CACHE_ENTRIES", 2048, minimum=1))
