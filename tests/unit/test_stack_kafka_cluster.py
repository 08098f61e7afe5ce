"""make up BROKERS=3 KAFKA_SECURITY=sasl_ssl: what the stack gives each process, without starting anything."""
from deploy.stack import Ports, Stack
from shared.config import Settings


def test_three_secured_brokers_give_each_service_its_own_user_and_replicated_topics(tmp_path):
    stack = Stack(var_dir=tmp_path, ports=Ports(kafka=39092), brokers=3, kafka_security="sasl_ssl")
    assert stack.kafka.bootstrap_servers == "127.0.0.1:39092,127.0.0.1:39094,127.0.0.1:39096"
    deals = Settings.from_env("deals", stack.service_env("deals"))
    conflict = Settings.from_env("conflict", stack.service_env("conflict"))
    assert deals.kafka_bootstrap_servers == stack.kafka.bootstrap_servers
    assert (deals.kafka_replication_factor, deals.kafka_min_insync_replicas) == (3, 2)
    assert (deals.kafka_security.protocol, deals.kafka_security.username) == ("SASL_SSL", "deals")
    assert conflict.kafka_security.username == "conflict"
    assert deals.kafka_security.password != conflict.kafka_security.password
    with open(deals.kafka_security.cafile) as ca, open(deals.kafka_security.keyfile) as key:
        assert ca.read().startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE KEY" in key.read()
    assert "DEALGATE_KAFKA_SASL_USERNAME" not in stack.env()  # only a service's own processes get its user


def test_one_plaintext_broker_is_the_default(tmp_path):
    stack = Stack(var_dir=tmp_path, ports=Ports(kafka=39192))
    settings = Settings.from_env("deals", stack.service_env("deals"))
    assert settings.kafka_bootstrap_servers == "127.0.0.1:39192"
    assert (settings.kafka_replication_factor, settings.kafka_security.protocol) == (1, "PLAINTEXT")
    assert stack.kafka.nodes[0].data_dir == tmp_path / "kafka"  # where make run always kept it
