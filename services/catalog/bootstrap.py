"""The catalog's composition root: the one place where real or fake adapters are chosen and wired."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from services.catalog.api.caching import PageCache
from services.catalog.settings import CatalogSettings
from services.catalog.storage.reader import ListingReader, create_read_engine
from services.catalog.storage.uow import CatalogUnitOfWork, SqlCatalogUnitOfWork
from shared.auth import TokenVerifier, verifiers_for
from shared.bus import Bus, KafkaBus
from shared.db import create_engine
from shared.doorbell import UdpDoorbell

MIGRATIONS = Path(__file__).parent / "storage" / "migrations"


@dataclasses.dataclass
class Catalog:
    settings: CatalogSettings
    engine: Engine
    bus: Bus
    tokens: TokenVerifier
    uow_factory: Callable[[], CatalogUnitOfWork]
    reader: ListingReader
    page_cache: PageCache


def bootstrap(settings: CatalogSettings, *, bus: Bus | None = None, engine: Engine | None = None) -> Catalog:
    engine = engine or create_engine(settings.database_url)
    doorbell = UdpDoorbell(settings.relay_doorbell) if settings.relay_doorbell else None
    return Catalog(
        settings=settings,
        engine=engine,
        bus=bus or KafkaBus.from_settings(settings, client_id="catalog"),
        tokens=verifiers_for(settings),
        uow_factory=lambda: SqlCatalogUnitOfWork(engine, doorbell=doorbell),
        reader=ListingReader(create_read_engine(settings.database_url, engine)),
        page_cache=PageCache(max_entries=settings.page_cache_entries),
    )
