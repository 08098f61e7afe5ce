"""A secured local cluster (TLS with client certificates, SASL, a user and ACLs per service): the deals service's user
may publish registrations but not a verdict, so a forged case.resolved cannot reach deals through the broker."""
import json
import uuid

import pytest
from kafka.errors import KafkaError

from deploy.kafka import KafkaCluster
from shared.bus import KafkaBus, KafkaSecurity, MessageRejected, OutgoingMessage
from shared.topics import CONFLICT_CASES, DEALS_REGISTRATIONS
from tests.conftest import PORT_OFFSET, RUN_DIR
from tests.kafka_helpers import read_all

SECURED_KAFKA_PORT = 19120 + PORT_OFFSET  # past the suite's own three-broker range (19092-19097 + offset)


@pytest.fixture(scope="module")
def secured():
    cluster = KafkaCluster(RUN_DIR / f"kafka-secured-{uuid.uuid4().hex[:6]}", port=SECURED_KAFKA_PORT,
                           security="sasl_ssl")
    cluster.start()
    KafkaBus(cluster.bootstrap_servers, security=cluster.client_security()).ensure_topics()
    yield cluster
    cluster.stop()


def bus_as(cluster: KafkaCluster, user: str, **changes) -> KafkaBus:
    security = cluster.secrets.security(user)
    return KafkaBus(cluster.bootstrap_servers, client_id=f"acl-test-{user}",
                    security=KafkaSecurity(**{**security.__dict__, **changes}))


def forged_verdict() -> OutgoingMessage:
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "type": "case.resolved", "source": "forged",
             "subject": str(uuid.uuid4()), "data": {"winner": "me"}}
    return OutgoingMessage(CONFLICT_CASES, event["subject"], json.dumps(event).encode())


def test_deals_user_cannot_write_conflict_cases_but_can_write_its_own_topic(secured):
    deals = bus_as(secured, "deals")
    publisher = deals.publisher()
    try:
        with pytest.raises(MessageRejected, match="TopicAuthorizationFailed"):
            publisher.publish([forged_verdict()])
    finally:
        publisher.close()
    publisher = deals.publisher()  # a refused message may break an idempotent producer: a fresh one, as the relay
    try:
        publisher.publish([OutgoingMessage(DEALS_REGISTRATIONS, "acl-test", b'{"allowed": true}')])
    finally:
        publisher.close()
    cases = read_all(secured.bootstrap_servers, CONFLICT_CASES, 0, timeout_s=3, security=secured.client_security())
    assert not any(b"forged" in record.value for record in cases)
    registrations = read_all(secured.bootstrap_servers, DEALS_REGISTRATIONS, 1, security=secured.client_security())
    assert [record.value for record in registrations] == [b'{"allowed": true}']


def test_conflict_user_may_write_verdicts_and_plain_works_like_scram(secured):
    publisher = bus_as(secured, "conflict", sasl_mechanism="PLAIN").publisher()
    try:
        publisher.publish([OutgoingMessage(CONFLICT_CASES, "acl-test", b'{"from": "conflict"}')])
    finally:
        publisher.close()


def test_catalog_user_cannot_read_registrations(secured):
    subscription = bus_as(secured, "catalog").subscribe([DEALS_REGISTRATIONS], "dealgate-catalog")
    try:
        with pytest.raises(Exception, match="Authorization"):
            for _ in range(20):
                subscription.poll(0.5)
    finally:
        subscription.close()


def list_topics_as_deals(cluster: KafkaCluster, **changes) -> list[str]:
    from kafka import KafkaAdminClient

    security = KafkaSecurity(**{**cluster.secrets.security("deals").__dict__, **changes})
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers, request_timeout_ms=3000,
                             bootstrap_timeout_ms=3000, **security.client_options())
    try:
        return admin.list_topics()
    finally:
        admin.close()


@pytest.mark.parametrize("changes", [{"password": "not-the-password"}, {"certfile": None, "keyfile": None},
                                     {"cafile": None}],
                         ids=["wrong password", "no client certificate", "broker certificate not trusted"])
def test_a_client_without_the_right_credentials_gets_nothing(secured, changes):
    assert CONFLICT_CASES in list_topics_as_deals(secured)  # the same call with the right ones answers
    with pytest.raises(KafkaError):  # authentication or the TLS handshake fails, and the client never bootstraps
        list_topics_as_deals(secured, **changes)
