"""One typed settings object per process, read from the environment once at start-up and passed down."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JWT_SECRET = "dealgate-dev-secret-change-me-0123456789"  # long enough for HS256 (>= 32 bytes)

SERVICE_PORTS = {"catalog": 8001, "deals": 8002, "conflict": 8003}
# Each relay listens for "something committed" hints here; see shared/outbox.py.
RELAY_DOORBELL_PORTS = {"catalog": 9301, "deals": 9302, "conflict": 9303}


@dataclasses.dataclass(frozen=True)
class Settings:
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
    # Service-specific knobs live here too, so nothing deep in the code reads os.environ.
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("DEALGATE_VAR_DIR", REPO_ROOT / "var"))
        default_db = f"sqlite:///{var_dir / (service + '.db')}"
        doorbell_port = int(env.get(f"{service.upper()}_RELAY_DOORBELL_PORT", RELAY_DOORBELL_PORTS[service]))
        prefix = f"{service.upper()}_"
        values = dict(
            service=service,
            database_url=env.get(f"{service.upper()}_DATABASE_URL", default_db),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            jwt_secret=env.get("DEALGATE_JWT_SECRET", DEFAULT_JWT_SECRET),
            log_level=env.get("DEALGATE_LOG_LEVEL", "INFO"),
            log_json=env.get("DEALGATE_LOG_FORMAT", "json") == "json",
            relay_doorbell=("127.0.0.1", doorbell_port) if doorbell_port else None,
            relay_poll_interval_s=float(env.get("DEALGATE_RELAY_POLL_S", "0.5")),
            consumer_group=env.get(f"{service.upper()}_CONSUMER_GROUP", f"dealgate-{service}"),
            var_dir=var_dir,
            faults={k[len("DEALGATE_FAULT_"):].lower(): int(v) for k, v in env.items()
                    if k.startswith("DEALGATE_FAULT_")},
            extra={k[len(prefix):].lower(): v for k, v in env.items() if k.startswith(prefix)},
        )
        values.update(overrides)
        return cls(**values)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
