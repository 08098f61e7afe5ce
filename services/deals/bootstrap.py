"""The deals composition root: the one place where real or fake adapters are chosen and wired."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from services.deals.domain.policy import DealPolicy
from services.deals.limits import DealLimits, LocalRateLimiter
from services.deals.storage.repository import ListingCache
from services.deals.storage.uow import DealsUnitOfWork, SqlDealsUnitOfWork
from shared.auth import TokenService
from shared.bus import Bus, KafkaBus
from shared.config import Settings
from shared.db import create_engine
from shared.doorbell import UdpDoorbell

MIGRATIONS = Path(__file__).parent / "storage" / "migrations"


@dataclasses.dataclass
class Deals:
    settings: Settings
    engine: Engine
    bus: Bus
    tokens: TokenService
    policy: DealPolicy
    limits: DealLimits
    request_limiter: LocalRateLimiter
    uow_factory: Callable[[], DealsUnitOfWork]


def bootstrap(settings: Settings, *, bus: Bus | None = None, engine: Engine | None = None) -> Deals:
    engine = engine or create_engine(settings.database_url)
    doorbell = UdpDoorbell(settings.relay_doorbell) if settings.relay_doorbell else None
    limits = DealLimits.from_settings(settings.extra)
    # DEALS_LISTING_CACHE_S: how long an API process reuses a published listing it read (0 turns it off).
    cache_s = float(settings.extra.get("listing_cache_s", 1.0))
    listing_cache = ListingCache(cache_s) if cache_s > 0 else None
    return Deals(
        settings=settings,
        engine=engine,
        bus=bus or KafkaBus(settings.kafka_bootstrap_servers, client_id="deals"),
        tokens=TokenService(settings.jwt_secret, settings.jwt_issuer),
        policy=DealPolicy.from_settings(settings.extra),
        limits=limits,
        request_limiter=LocalRateLimiter(limits.requests_per_minute),
        uow_factory=lambda: SqlDealsUnitOfWork(engine, doorbell=doorbell, listing_cache=listing_cache),
    )
