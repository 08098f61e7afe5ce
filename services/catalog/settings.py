"""The catalog service's settings: the shared ones plus its page cache, checked at start-up."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from shared.config import ConfigError, Settings, read_int


@dataclasses.dataclass(frozen=True)
class CatalogSettings(Settings):
    SERVICE: ClassVar[str] = "catalog"

    page_cache_entries: int = 2048  # CATALOG_PAGE_CACHE_ENTRIES: rendered search pages kept per API process
    # CATALOG_CORS_ORIGINS: the browser origins (comma-separated, or *) that may read listings anonymously
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def service_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        try:
            cors_origins = parse_origins(env.get("CATALOG_CORS_ORIGINS", ""))
        except ValueError as exc:
            raise ConfigError(f"CATALOG_CORS_ORIGINS: {exc}") from None
        return dict(page_cache_entries=read_int(env, "CATALOG_PAGE_CACHE_ENTRIES", 2048, minimum=1),
                    cors_origins=cors_origins)


def parse_origins(text: str) -> tuple[str, ...]:
    """CATALOG_CORS_ORIGINS: comma-separated origins (scheme://host[:port]), or * for any; empty turns CORS off."""
    origins = tuple(part.strip().rstrip("/") for part in text.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
            raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path), nor *")
    return origins
