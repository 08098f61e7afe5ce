"""The Kafka settings every process reads: brokers, replication of the topics it makes, TLS and SASL."""
import pytest

from shared.bus import KafkaBus
from shared.config import ConfigError, Settings


def settings(**env: str) -> Settings:
    return Settings.from_env("deals", env)


def test_defaults_are_one_plaintext_broker_with_unreplicated_topics():
    s = settings()
    assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert (s.kafka_replication_factor, s.kafka_min_insync_replicas) == (1, 1)
    assert s.kafka_security.client_options() == {"security_protocol": "PLAINTEXT"}


def test_a_cluster_of_three_with_sasl_over_tls(tmp_path):
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "deals.pem", "deals.key"))
    for path in (ca, cert, key):
        path.write_text("x")
    s = settings(KAFKA_BOOTSTRAP_SERVERS="10.0.0.1:9092, 10.0.0.2:9092,10.0.0.3:9092",
                 DEALGATE_KAFKA_REPLICATION_FACTOR="3", DEALGATE_KAFKA_MIN_INSYNC_REPLICAS="2",
                 DEALGATE_KAFKA_SECURITY_PROTOCOL="sasl_ssl", DEALGATE_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
                 DEALGATE_KAFKA_SASL_USERNAME="deals", DEALGATE_KAFKA_SASL_PASSWORD="s3cret",
                 DEALGATE_KAFKA_SSL_CAFILE=str(ca), DEALGATE_KAFKA_SSL_CERTFILE=str(cert),
                 DEALGATE_KAFKA_SSL_KEYFILE=str(key))
    assert (s.kafka_replication_factor, s.kafka_min_insync_replicas) == (3, 2)
    assert s.kafka_security.client_options() == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "deals",
        "sasl_plain_password": "s3cret", "ssl_check_hostname": True, "ssl_cafile": str(ca),
        "ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    assert "s3cret" not in repr(s)  # settings get logged; the password must not be
    bus = KafkaBus.from_settings(s, client_id="deals")
    assert (bus.replication_factor, bus.min_insync_replicas, bus.security) == (3, 2, s.kafka_security)


def test_plain_is_the_other_mechanism():
    s = settings(DEALGATE_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT", DEALGATE_KAFKA_SASL_MECHANISM="plain",
                 DEALGATE_KAFKA_SASL_USERNAME="deals", DEALGATE_KAFKA_SASL_PASSWORD="pw")
    assert s.kafka_security.client_options()["sasl_mechanism"] == "PLAIN"


@pytest.mark.parametrize(("env", "names"), [
    ({"DEALGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "DEALGATE_KAFKA_SASL_USERNAME": "deals"},
     "needs DEALGATE_KAFKA_SASL_PASSWORD"),
    ({"DEALGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "DEALGATE_KAFKA_SASL_PASSWORD": "pw"},
     "needs DEALGATE_KAFKA_SASL_USERNAME"),
    ({"DEALGATE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "DEALGATE_KAFKA_SECURITY_PROTOCOL must be one of"),
    ({"DEALGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "DEALGATE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-1",
      "DEALGATE_KAFKA_SASL_USERNAME": "u", "DEALGATE_KAFKA_SASL_PASSWORD": "p"}, "SCRAM-SHA-512, PLAIN"),
    ({"DEALGATE_KAFKA_SASL_USERNAME": "deals", "DEALGATE_KAFKA_SASL_PASSWORD": "pw"}, "is PLAINTEXT"),
    ({"DEALGATE_KAFKA_SSL_CAFILE": "/etc/hostname"}, r"DEALGATE_KAFKA_SSL_\* is set"),
    ({"DEALGATE_KAFKA_SECURITY_PROTOCOL": "SSL", "DEALGATE_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
     "DEALGATE_KAFKA_SSL_CAFILE: cannot read"),
    ({"DEALGATE_KAFKA_SECURITY_PROTOCOL": "SSL", "DEALGATE_KAFKA_SSL_CERTFILE": "/etc/hostname"},
     "go together"),
    ({"DEALGATE_KAFKA_REPLICATION_FACTOR": "0"}, "DEALGATE_KAFKA_REPLICATION_FACTOR must be at least 1"),
    ({"DEALGATE_KAFKA_REPLICATION_FACTOR": "3", "DEALGATE_KAFKA_MIN_INSYNC_REPLICAS": "4"}, "cannot be more than"),
    ({"KAFKA_BOOTSTRAP_SERVERS": "broker-1,broker-2:9092"}, "KAFKA_BOOTSTRAP_SERVERS must be host:port"),
    ({"DEALGATE_ENV": "production", "DEALGATE_JWT_SECRET": "x" * 40,
      "DEALGATE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "DEALGATE_KAFKA_SASL_MECHANISM": "PLAIN",
      "DEALGATE_KAFKA_SASL_USERNAME": "u", "DEALGATE_KAFKA_SASL_PASSWORD": "p"}, "in the clear"),
])
def test_unusable_kafka_settings_stop_the_start_with_one_clear_line(env, names):
    with pytest.raises(ConfigError, match=names):
        settings(**env)
