"""One typed settings object per process, read from the environment once at start-up and passed down."""
from __future__ import annotations

import dataclasses
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from shared.bus import DEFAULT_MAX_MESSAGE_BYTES, PLAINTEXT, SASL_MECHANISMS, SECURITY_PROTOCOLS, KafkaSecurity

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JWT_SECRET = "dealgate-dev-secret-change-me-0123456789"  # noqa: S105 - the dev default; long enough for HS256 (>= 32 bytes)

ENVIRONMENTS = ("development", "production")
MIN_SECRET_BYTES = 32
# Keycloak's defaults: realm roles in realm_access.roles, partner_id and channel as plain claims set by mappers.
DEFAULT_ROLE_CLAIM = "realm_access.roles"
DEFAULT_PARTNER_ID_CLAIM = "partner_id"
DEFAULT_CHANNEL_CLAIM = "channel"
DEFAULT_OIDC_AUDIENCE = "dealgate"
DEFAULT_DESK_CLIENT_ID = "dealgate-desk"

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
    # Topics made by ensure_topics get these (3 and 2 on a three-broker cluster); the clients' TLS and SASL settings.
    kafka_replication_factor: int = 1
    kafka_min_insync_replicas: int = 1
    kafka_security: KafkaSecurity = PLAINTEXT
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "dealgate"
    # Who may sign tokens (see identity_values): DEALGATE_ENV, and in production either an OpenID Connect issuer or
    # a strong HS256 secret of the operator's own. HS256 tokens are accepted only while hs256_enabled.
    environment: str = "development"
    hs256_enabled: bool = True
    oidc_issuer: str | None = None
    oidc_audience: str = DEFAULT_OIDC_AUDIENCE
    oidc_role_claim: str = DEFAULT_ROLE_CLAIM
    oidc_partner_id_claim: str = DEFAULT_PARTNER_ID_CLAIM
    oidc_channel_claim: str = DEFAULT_CHANNEL_CLAIM
    oidc_max_token_lifetime_s: int = 3600
    oidc_desk_client_id: str = DEFAULT_DESK_CLIENT_ID
    log_level: str = "INFO"
    log_json: bool = True
    relay_doorbell: tuple[str, int] | None = None
    relay_poll_interval_s: float = 0.5
    # A relay or consumer starts a pass at most this often while work keeps coming, so what arrived meanwhile
    # shares the pass's transaction, round trips and Kafka requests (like a producer's linger.ms): a pass costs
    # about the same for one event as for ten. An idle one still answers its first event at once.
    batch_gather_s: float = 0.02
    # A row the broker refuses this many times moves to outbox_dead (shared/relay.py).
    relay_max_attempts: int = 5
    # Where a worker (relay, consumer, job) answers /healthz, /readyz and /metrics (shared/worker_health.py);
    # 0: nowhere (several workers share one host under make up; containers set one port for each).
    worker_health_port: int = 0
    # The largest message a publisher sends; each relay checks at start-up that the broker takes as much.
    kafka_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    consumer_group: str = ""
    # How long processed_events and published outbox rows are kept (shared/retention.py), and how often they are
    # pruned; deals' idempotency records keep their own 24 h.
    retention_days: float = 7.0
    retention_interval_s: float = 600.0
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
            log_level=env.get("DEALGATE_LOG_LEVEL", "INFO"),
            log_json=env.get("DEALGATE_LOG_FORMAT", "json") == "json",
            relay_doorbell=("127.0.0.1", doorbell_port) if doorbell_port else None,
            relay_poll_interval_s=read_float(env, "DEALGATE_RELAY_POLL_S", 0.5, minimum=0.01),
            relay_max_attempts=read_int(env, "DEALGATE_RELAY_MAX_ATTEMPTS", 5, minimum=1),
            batch_gather_s=read_float(env, "DEALGATE_BATCH_GATHER_MS", 20.0, minimum=0.0) / 1000,
            worker_health_port=read_int(env, "DEALGATE_WORKER_HEALTH_PORT", 0),
            kafka_max_message_bytes=read_int(env, "DEALGATE_KAFKA_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES,
                                             minimum=1024),
            consumer_group=env.get(f"{service.upper()}_CONSUMER_GROUP", f"dealgate-{service}"),
            retention_days=read_float(env, "DEALGATE_RETENTION_DAYS", 7.0, minimum=0.0),
            retention_interval_s=read_float(env, "DEALGATE_RETENTION_INTERVAL_S", 600.0, minimum=0.1),
            var_dir=var_dir,
            faults={k[len("DEALGATE_FAULT_"):].lower(): read_int(env, k, 0) for k in env
                    if k.startswith("DEALGATE_FAULT_")},
        )
        values.update(identity_values(env))
        values.update(kafka_values(env))
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

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def kafka_values(env: Mapping[str, str]) -> dict[str, Any]:
    """Where the brokers are, what the topics get, and how every Kafka client of the process connects.

    KAFKA_BOOTSTRAP_SERVERS is a comma-separated list of host:port; DEALGATE_KAFKA_SECURITY_PROTOCOL one of
    PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; a SASL protocol needs DEALGATE_KAFKA_SASL_USERNAME and _PASSWORD
    (DEALGATE_KAFKA_SASL_MECHANISM: SCRAM-SHA-512, the default, or PLAIN); TLS takes DEALGATE_KAFKA_SSL_CAFILE and,
    for brokers that ask for a client certificate, DEALGATE_KAFKA_SSL_CERTFILE and _KEYFILE.
    """
    bootstrap = (env.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092").strip()
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"KAFKA_BOOTSTRAP_SERVERS must be host:port[,host:port...], not {bootstrap!r}")
    replication = read_int(env, "DEALGATE_KAFKA_REPLICATION_FACTOR", 1, minimum=1)
    min_insync = read_int(env, "DEALGATE_KAFKA_MIN_INSYNC_REPLICAS", 1, minimum=1)
    if min_insync > replication:
        raise ConfigError(f"DEALGATE_KAFKA_MIN_INSYNC_REPLICAS ({min_insync}) cannot be more than "
                          f"DEALGATE_KAFKA_REPLICATION_FACTOR ({replication}): no write could ever succeed")
    protocol = (env.get("DEALGATE_KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").strip().upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise ConfigError(f"DEALGATE_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}, "
                          f"not {protocol!r}")
    security = KafkaSecurity(
        protocol=protocol,
        sasl_mechanism=(env.get("DEALGATE_KAFKA_SASL_MECHANISM") or "").strip().upper() or None,
        username=env.get("DEALGATE_KAFKA_SASL_USERNAME") or None,
        password=env.get("DEALGATE_KAFKA_SASL_PASSWORD") or None,
        cafile=env.get("DEALGATE_KAFKA_SSL_CAFILE") or None,
        certfile=env.get("DEALGATE_KAFKA_SSL_CERTFILE") or None,
        keyfile=env.get("DEALGATE_KAFKA_SSL_KEYFILE") or None,
    )
    _check_kafka_security(security, production=(env.get("DEALGATE_ENV") or "").strip() == "production")
    return dict(kafka_bootstrap_servers=bootstrap, kafka_replication_factor=replication,
                kafka_min_insync_replicas=min_insync, kafka_security=security)


def _check_kafka_security(security: KafkaSecurity, *, production: bool) -> None:
    if security.uses_sasl:
        if security.sasl_mechanism is not None and security.sasl_mechanism not in SASL_MECHANISMS:
            raise ConfigError(f"DEALGATE_KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, "
                              f"not {security.sasl_mechanism!r}")
        for name, value in (("DEALGATE_KAFKA_SASL_USERNAME", security.username),
                            ("DEALGATE_KAFKA_SASL_PASSWORD", security.password)):
            if not value:
                raise ConfigError(f"DEALGATE_KAFKA_SECURITY_PROTOCOL={security.protocol} needs {name}")
        if production and security.protocol == "SASL_PLAINTEXT" and security.sasl_mechanism == "PLAIN":
            raise ConfigError("SASL PLAIN over SASL_PLAINTEXT sends the Kafka password in the clear: use SASL_SSL "
                              "or SCRAM-SHA-512 in production")
    elif security.sasl_mechanism or security.username or security.password:
        raise ConfigError(f"DEALGATE_KAFKA_SASL_* is set but DEALGATE_KAFKA_SECURITY_PROTOCOL is "
                          f"{security.protocol}: set it to SASL_SSL (or SASL_PLAINTEXT) or drop the SASL settings")
    files = (("DEALGATE_KAFKA_SSL_CAFILE", security.cafile), ("DEALGATE_KAFKA_SSL_CERTFILE", security.certfile),
             ("DEALGATE_KAFKA_SSL_KEYFILE", security.keyfile))
    if not security.uses_tls and any(path for _, path in files):
        raise ConfigError(f"DEALGATE_KAFKA_SSL_* is set but DEALGATE_KAFKA_SECURITY_PROTOCOL is {security.protocol}: "
                          "set it to SSL or SASL_SSL or drop the SSL settings")
    if bool(security.certfile) != bool(security.keyfile):
        raise ConfigError("DEALGATE_KAFKA_SSL_CERTFILE and DEALGATE_KAFKA_SSL_KEYFILE go together: set both or neither")
    for name, path in files:
        if path and not os.access(path, os.R_OK):
            raise ConfigError(f"{name}: cannot read {path!r}")


def identity_values(env: Mapping[str, str]) -> dict[str, Any]:
    """Who may sign the tokens every process accepts, checked before anything starts.

    In production a process refuses to start unless an OpenID Connect issuer is configured or an HS256 secret of
    at least 32 bytes is set that is not the built-in development one; an HS256 secret is then used only if set.
    In development (the default, as `make run` and `make up` have it) the built-in secret signs the demo tokens.
    """
    environment = (env.get("DEALGATE_ENV") or "development").strip()
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"DEALGATE_ENV must be development or production, not {environment!r}")
    secret = env.get("DEALGATE_JWT_SECRET") or None
    issuer = (env.get("DEALGATE_OIDC_ISSUER") or "").strip().rstrip("/") or None
    production = environment == "production"
    if issuer is not None:
        _check_issuer(issuer, production)
    if production and secret is not None:
        if secret == DEFAULT_JWT_SECRET:
            raise ConfigError("DEALGATE_JWT_SECRET is the built-in development secret, which anyone can read: "
                              "set a secret of your own (at least 32 bytes) or DEALGATE_OIDC_ISSUER")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"DEALGATE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production, "
                              f"not {len(secret.encode())}")
    if production and secret is None and issuer is None:
        raise ConfigError("DEALGATE_ENV=production needs DEALGATE_OIDC_ISSUER (an OpenID Connect issuer) or "
                          f"DEALGATE_JWT_SECRET (an HS256 secret of at least {MIN_SECRET_BYTES} bytes, not the "
                          "built-in one); refusing to start with the development secret")
    values: dict[str, Any] = dict(
        environment=environment,
        jwt_secret=secret or DEFAULT_JWT_SECRET,
        hs256_enabled=secret is not None or not production,
        oidc_issuer=issuer,
        oidc_max_token_lifetime_s=read_int(env, "DEALGATE_OIDC_MAX_TOKEN_LIFETIME_S", 3600, minimum=1),
    )
    for field, name, default in (("oidc_audience", "DEALGATE_OIDC_AUDIENCE", DEFAULT_OIDC_AUDIENCE),
                                 ("oidc_role_claim", "DEALGATE_OIDC_ROLE_CLAIM", DEFAULT_ROLE_CLAIM),
                                 ("oidc_partner_id_claim", "DEALGATE_OIDC_PARTNER_ID_CLAIM", DEFAULT_PARTNER_ID_CLAIM),
                                 ("oidc_channel_claim", "DEALGATE_OIDC_CHANNEL_CLAIM", DEFAULT_CHANNEL_CLAIM),
                                 ("oidc_desk_client_id", "DEALGATE_OIDC_DESK_CLIENT_ID", DEFAULT_DESK_CLIENT_ID)):
        text = env.get(name)
        if text is not None and not text.strip():
            raise ConfigError(f"{name} must not be empty")
        values[field] = text.strip() if text is not None else default
    return values


def _check_issuer(issuer: str, production: bool) -> None:
    parsed = urllib.parse.urlsplit(issuer)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or parsed.fragment:
        raise ConfigError(f"DEALGATE_OIDC_ISSUER must be the issuer's http(s) URL, not {issuer!r}")
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if production and parsed.scheme != "https" and not loopback:
        raise ConfigError(f"DEALGATE_OIDC_ISSUER must use https in production, not {issuer!r}")
