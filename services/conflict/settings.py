"""The conflict service's settings: the shared ones plus its rules file, checked at start-up."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from shared.config import ConfigError, Settings

DEFAULT_RULES_FILE = Path(__file__).parent / "rules" / "default_rules.yaml"


@dataclasses.dataclass(frozen=True)
class ConflictSettings(Settings):
    SERVICE: ClassVar[str] = "conflict"

    rules_file: Path = DEFAULT_RULES_FILE  # CONFLICT_RULES_FILE: the rules of engagement (see the README)

    @classmethod
    def service_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        rules_file = Path(env.get("CONFLICT_RULES_FILE") or DEFAULT_RULES_FILE)
        if not rules_file.is_file():
            raise ConfigError(f"CONFLICT_RULES_FILE names {str(rules_file)!r}, which is not a readable file")
        return dict(rules_file=rules_file)
