"""The conflict composition root: the one place where real or fake adapters are chosen and wired."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import Engine

from services.conflict.domain.overlap import ExactKeyMatcher
from services.conflict.storage.uow import ConflictUnitOfWork
from shared.auth import TokenService
from shared.bus import Bus, KafkaBus
from shared.config import Settings
from shared.db import create_engine
from shared.outbox import UdpDoorbell

MIGRATIONS = Path(__file__).parent / "storage" / "migrations"


@dataclasses.dataclass
class Conflict:
    settings: Settings
    engine: Engine
    bus: Bus
    tokens: TokenService
    matcher: object
    uow_factory: Callable[[], ConflictUnitOfWork]


def bootstrap(settings: Settings, *, bus: Bus | None = None, engine: Engine | None = None) -> Conflict:
    engine = engine or create_engine(settings.database_url)
    doorbell = UdpDoorbell(settings.relay_doorbell) if settings.relay_doorbell else None
    return Conflict(
        settings=settings,
        engine=engine,
        bus=bus or KafkaBus(settings.kafka_bootstrap_servers, client_id="conflict"),
        tokens=TokenService(settings.jwt_secret, settings.jwt_issuer),
        matcher=ExactKeyMatcher(),
        uow_factory=lambda: ConflictUnitOfWork(engine, doorbell=doorbell),
    )
