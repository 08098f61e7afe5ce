"""The deals composition root: the one place where real or fake adapters are chosen and wired."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from services.deals.domain.policy import DealPolicy
from services.deals.domain.webhooks import Resolver
from services.deals.limits import DealLimits, LocalRateLimiter
from services.deals.settings import DealsSettings
from services.deals.storage.repository import ListingCache
from services.deals.storage.uow import DealsUnitOfWork, SqlDealsUnitOfWork
from services.deals.webhook_sender import resolve
from shared.auth import TokenVerifier, verifiers_for
from shared.bus import Bus, KafkaBus
from shared.db import create_engine
from shared.doorbell import UdpDoorbell

MIGRATIONS = Path(__file__).parent / "storage" / "migrations"


@dataclasses.dataclass
class Deals:
    settings: DealsSettings
    engine: Engine
    bus: Bus
    tokens: TokenVerifier
    policy: DealPolicy
    limits: DealLimits
    request_limiter: LocalRateLimiter
    uow_factory: Callable[[], DealsUnitOfWork]
    # How webhook URLs are resolved for their SSRF check (a fake in tests: no DNS).
    webhook_resolver: Resolver = resolve


def bootstrap(settings: DealsSettings, *, bus: Bus | None = None, engine: Engine | None = None) -> Deals:
    engine = engine or create_engine(settings.database_url)
    doorbell = UdpDoorbell(settings.relay_doorbell) if settings.relay_doorbell else None
    limits = DealLimits(requests_per_minute=settings.rate_limit_per_minute,
                        checks_per_minute=settings.check_rate_limit_per_minute)
    listing_cache = ListingCache(settings.listing_cache_s) if settings.listing_cache_s > 0 else None
    return Deals(
        settings=settings,
        engine=engine,
        bus=bus or KafkaBus.from_settings(settings, client_id="deals"),
        tokens=verifiers_for(settings),
        policy=DealPolicy(protection=dt.timedelta(days=settings.protection_days),
                          extension=dt.timedelta(days=settings.extension_days),
                          extension_window=dt.timedelta(days=settings.extension_window_days),
                          max_extensions=settings.max_extensions),
        limits=limits,
        request_limiter=LocalRateLimiter(limits.requests_per_minute),
        uow_factory=lambda: SqlDealsUnitOfWork(engine, doorbell=doorbell, listing_cache=listing_cache),
    )
