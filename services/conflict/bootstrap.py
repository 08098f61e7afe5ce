"""The conflict composition root: the one place where real or fake adapters are chosen and wired."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import yaml
from sqlalchemy.engine import Engine

from services.conflict.domain.rules import RulesError, RulesOfEngagement
from services.conflict.overlaps import OverlapDetector
from services.conflict.settings import ConflictSettings
from services.conflict.storage.uow import ConflictUnitOfWork, SqlConflictUnitOfWork
from shared.auth import TokenVerifier, verifiers_for
from shared.bus import Bus, KafkaBus
from shared.db import create_engine
from shared.doorbell import UdpDoorbell

MIGRATIONS = Path(__file__).parent / "storage" / "migrations"


@dataclasses.dataclass
class Conflict:
    settings: ConflictSettings
    engine: Engine
    bus: Bus
    tokens: TokenVerifier
    rules: RulesOfEngagement
    detector: OverlapDetector
    uow_factory: Callable[[], ConflictUnitOfWork]


def load_rules(path: Path | str) -> RulesOfEngagement:
    """Read a rules file (CONFLICT_RULES_FILE, else the documented defaults); an invalid file stops start-up."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"cannot read the rules file {path}: {exc}") from exc
    return RulesOfEngagement.from_dict(document)


def bootstrap(settings: ConflictSettings, *, bus: Bus | None = None, engine: Engine | None = None,
              rules: RulesOfEngagement | None = None) -> Conflict:
    engine = engine or create_engine(settings.database_url)
    doorbell = UdpDoorbell(settings.relay_doorbell) if settings.relay_doorbell else None
    return Conflict(
        settings=settings,
        engine=engine,
        bus=bus or KafkaBus.from_settings(settings, client_id="conflict"),
        tokens=verifiers_for(settings),
        rules=rules or load_rules(settings.rules_file),
        detector=OverlapDetector(),
        uow_factory=lambda: SqlConflictUnitOfWork(engine, doorbell=doorbell),
    )
