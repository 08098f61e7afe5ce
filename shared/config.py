"""One typed settings object per process, read from the environment once at start-up and passed down."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JWT_SECRET = "dealgate-dev-secret-change-me-0123456789"  # noqa: S105 - the dev default; long enough for HS256 (>= 32 bytes)

SERVICE_PORTS = {"catalog": 8001, "deals": 8002, "conflict": 8003}
# Each relay listens for "something committed" hints here; see shared/doorbell.py.
RELAY_DOORBELL_PORTS = {"catalog": 9301, "deals": 9302, "conflict": 9303}


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable, so a start-up fails with one clear line."""


def read_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def read_float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not value >= minimum:  # also refuses NaN
        raise ConfigError(f"{name} must be at least {minimum}, not {text}")
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every process of every service reads. Each service subclasses it with its own typed settings."""

    SERVICE: ClassVar[str] = ""

    service: str
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "dealgate"
    log_level: str = "INFO"
    log_json: bool = True
    relay_doorbell: tuple[str, int] | None = None
    relay_poll_interval_s: float = 0.5
    consumer_group: str = ""
    var_dir: Path = REPO_ROOT / "var"
    # Fault injection for the guarantee tests, e.g. DEALGATE_FAULT_RELAY_EXIT_AFTER_PUBLISH=1 makes the relay
    # die after a broker acknowledgement and before marking the rows: the window where a crash matters.
    faults: Mapping[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read and check the environment once; a subclass knows its service and adds `service_values`."""
        service = service or cls.SERVICE
        env = os.environ if env is None else env
        var_dir = Path(env.get("DEALGATE_VAR_DIR", REPO_ROOT / "var"))
        default_db = f"sqlite:///{var_dir / (service + '.db')}"
        doorbell_port = read_int(env, f"{service.upper()}_RELAY_DOORBELL_PORT", RELAY_DOORBELL_PORTS[service])
        values: dict[str, Any] = dict(
            service=service,
            database_url=env.get(f"{service.upper()}_DATABASE_URL", default_db),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            jwt_secret=env.get("DEALGATE_JWT_SECRET", DEFAULT_JWT_SECRET),
            log_level=env.get("DEALGATE_LOG_LEVEL", "INFO"),
            log_json=env.get("DEALGATE_LOG_FORMAT", "json") == "json",
            relay_doorbell=("127.0.0.1", doorbell_port) if doorbell_port else None,
            relay_poll_interval_s=read_float(env, "DEALGATE_RELAY_POLL_S", 0.5, minimum=0.01),
            consumer_group=env.get(f"{service.upper()}_CONSUMER_GROUP", f"dealgate-{service}"),
            var_dir=var_dir,
            faults={k[len("DEALGATE_FAULT_"):].lower(): read_int(env, k, 0) for k in env
                    if k.startswith("DEALGATE_FAULT_")},
        )
        values.update(cls.service_values(env))
        values.update(overrides)
        return cls(**values)

    @classmethod
    def service_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        """The subclass's own fields, read and checked from `env`."""
        return {}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
