"""Webhooks: signatures against the Standard Webhooks test vectors, the URL rule (https, SSRF), the retry schedule,
the API on SQLite, and the worker's queueing and delivery with a fake sender (the real HTTP one is in e2e)."""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.deals import webhook_handlers
from services.deals.app import create_app
from services.deals.bootstrap import Deals
from services.deals.domain import webhooks
from services.deals.domain.events import registration_event
from services.deals.domain.model import Registration
from services.deals.domain.policy import DealPolicy
from services.deals.limits import DealLimits, LocalRateLimiter
from services.deals.settings import DealsSettings
from services.deals.storage.uow import SqlDealsUnitOfWork
from services.deals.storage.webhooks import WebhooksUnitOfWork
from services.deals.webhook_sender import SendResult
from shared.auth import TokenService
from shared.bus import InMemoryBus
from shared.clock import utcnow
from shared.db import create_engine, upgrade_to_head
from tests.unit.deals.fakes import unique

SECRET = "unit-test-secret-0123456789abcdef0123456789"
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "deals" / "storage" / "migrations"

# From standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py (test_sign_function and the
# invalid signature of test_invalid_signature_raises_error): the published vector every library is checked with.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_PAYLOAD = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
VECTOR_WRONG_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="

PUBLIC = "93.184.215.14"


def public_resolver(host: str, port: int) -> list[str]:
    return {"localhost": ["127.0.0.1"], "metadata.internal": ["169.254.169.254"], "intranet.example": ["10.1.2.3"],
            "mixed.example": [PUBLIC, "192.168.1.1"], "v6loop.example": ["::1"],
            "mapped.example": ["::ffff:127.0.0.1"], "zero.example": ["0.0.0.0"]}.get(host, [PUBLIC])  # noqa: S104


def failing_resolver(host: str, port: int) -> list[str]:
    raise OSError("no such host")


# -- signatures ----------------------------------------------------------------------------------------------

def test_signature_matches_the_specifications_published_vector():
    assert webhooks.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == VECTOR_SIGNATURE
    assert webhooks.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) != VECTOR_WRONG_SIGNATURE


def test_the_secret_works_with_and_without_its_prefix_and_padding():
    """As the reference libraries accept it: whsec_ optional, base64 padding optional."""
    for secret, padded in (("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS="),
                           ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr==")):
        expected = webhooks.sign(padded, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD)
        assert webhooks.sign(secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == expected
        assert webhooks.sign("whsec_" + secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == expected


def test_verify_accepts_any_matching_signature_of_a_list_and_refuses_stale_or_wrong_ones():
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIMESTAMP),
               "webhook-signature": f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {VECTOR_SIGNATURE}"}
    assert webhooks.verify(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP + 10)
    assert not webhooks.verify(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP + 301)
    assert not webhooks.verify(VECTOR_SECRET, {**headers, "webhook-signature": VECTOR_WRONG_SIGNATURE},
                               VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)
    assert not webhooks.verify(VECTOR_SECRET, headers, VECTOR_PAYLOAD + " ", now=VECTOR_TIMESTAMP)


def test_new_secrets_are_whsec_and_32_random_bytes():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret != webhooks.new_secret()


# -- the URL rule --------------------------------------------------------------------------------------------

def test_https_to_a_public_address_is_accepted_everywhere():
    target = webhooks.check_url("https://hooks.example.com/in?x=1", development=False, resolve=public_resolver)
    assert (target.scheme, target.host, target.port, target.path, target.addresses) == (
        "https", "hooks.example.com", 443, "/in?x=1", (PUBLIC,))


@pytest.mark.parametrize("url", ["http://hooks.example.com/in", "ftp://hooks.example.com/", "https:///nohost",
                                 "https://user:pw@hooks.example.com/", "https://hooks.example.com/#frag",
                                 "https://localhost/in", "http://localhost:9000/in",
                                 "https://metadata.internal/latest", "https://intranet.example/",
                                 "https://mixed.example/", "https://v6loop.example/", "https://mapped.example/",
                                 "https://zero.example/", "https://10.0.0.1/", "https://[fe80::1]/",
                                 "https://hooks.example.com:99999/", "https://" + "a" * 2050 + ".com/"])
def test_outside_development_plain_http_and_private_addresses_are_refused(url):
    with pytest.raises(webhooks.UnsafeUrl):
        webhooks.check_url(url, development=False, resolve=lambda host, port: public_resolver(host, port)
                           if not host[0].isdigit() and not host.startswith("fe80") else [host])


def test_in_development_http_and_private_receivers_are_accepted_but_the_host_must_resolve():
    assert webhooks.check_url("http://localhost:9000/in", development=True, resolve=public_resolver).port == 9000
    assert webhooks.check_url("http://intranet.example/", development=True, resolve=public_resolver)
    with pytest.raises(webhooks.UnsafeUrl, match="does not resolve"):
        webhooks.check_url("https://nowhere.example/", development=True, resolve=failing_resolver)


# -- the retry schedule --------------------------------------------------------------------------------------

def test_retries_follow_the_reference_schedule_over_about_three_days_with_up_to_ten_percent_jitter():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    at, delays = start, []
    for attempts in range(1, webhooks.MAX_ATTEMPTS + 1):
        following = webhooks.next_attempt_at(attempts, at, rand=lambda: 0.0)
        if following is None:
            break
        delays.append(following - at)
        at = following
    assert [int(d.total_seconds()) for d in delays] == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert at - start == dt.timedelta(hours=75, minutes=35, seconds=5)  # the table's last "time since start"
    assert webhooks.MAX_ATTEMPTS == 10
    assert webhooks.next_attempt_at(2, start, rand=lambda: 1.0) - start == dt.timedelta(minutes=5.5)
    assert webhooks.next_attempt_at(1, start, retry_after_s=60, rand=lambda: 0.0) - start == dt.timedelta(minutes=1)


# -- the API ---------------------------------------------------------------------------------------------------

@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'deals.db'}"
    upgrade_to_head(url, MIGRATIONS)
    return create_engine(url)


def make_deals(engine, *, production: bool = False, max_endpoints: int = 10) -> Deals:
    settings = DealsSettings.from_env(env={}, jwt_secret=SECRET)
    settings = dataclasses.replace(settings, webhook_max_endpoints=max_endpoints,
                                   environment="production" if production else "development")
    limits = DealLimits()
    return Deals(settings=settings, engine=engine, bus=InMemoryBus(), tokens=TokenService(SECRET),
                 policy=DealPolicy(), limits=limits, request_limiter=LocalRateLimiter(limits.requests_per_minute),
                 uow_factory=lambda: SqlDealsUnitOfWork(engine), webhook_resolver=public_resolver)


@pytest.fixture
def client(engine):
    deals = make_deals(engine, max_endpoints=3)
    return create_app({"SETTINGS": deals.settings, "TESTING": True}, deals=deals).test_client()


@pytest.fixture
def production_client(engine):
    deals = make_deals(engine, production=True)
    return create_app({"SETTINGS": deals.settings, "TESTING": True}, deals=deals).test_client()


def bearer(partner_id: str, role: str = "partner") -> dict:
    return {"Authorization": "Bearer " + TokenService(SECRET).issue(role, partner_id=partner_id, channel="reseller")}


def test_registering_answers_201_with_the_secret_once(client):
    who = bearer(unique("p"))
    response = client.post("/v1/webhooks", json={"url": "https://hooks.example.com/in",
                                                 "events": ["deal.approved", "deal.rejected"]}, headers=who)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["secret"].startswith("whsec_") and created["enabled"] is True
    assert created["events"] == ["deal.approved", "deal.rejected"]
    listed = client.get("/v1/webhooks", headers=who).json["items"]
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    assert "secret" not in client.get(f"/v1/webhooks/{created['id']}", headers=who).json


def test_endpoints_are_the_partners_own(client):
    owner, stranger = bearer(unique("p")), bearer(unique("p"))
    endpoint = client.post("/v1/webhooks", json={"url": "https://hooks.example.com/a", "events": ["deal.expired"]},
                           headers=owner).json
    for method, path in (("get", ""), ("patch", ""), ("delete", ""), ("post", "/rotate-secret"),
                         ("get", "/deliveries")):
        kwargs = {"json": {"enabled": False}} if method == "patch" else {}
        answer = getattr(client, method)(f"/v1/webhooks/{endpoint['id']}{path}", headers=stranger, **kwargs)
        assert answer.status_code == 404, (method, path, answer.json)
    assert client.get("/v1/webhooks", headers=stranger).json["items"] == []
    desk = {"Authorization": "Bearer " + TokenService(SECRET).issue("desk")}
    assert client.get("/v1/webhooks", headers=desk).status_code == 403


def test_bad_input_gets_a_422_with_the_field(client, production_client):
    who = bearer(unique("p"))
    for body, field in (({"url": "https://h.example.com/", "events": ["deal.sold"]}, "events"),
                        ({"url": "https://h.example.com/", "events": []}, "events"),
                        ({"events": ["deal.approved"]}, "url"),
                        ({"url": "ftp://h.example.com/", "events": ["deal.approved"]}, "url")):
        answer = client.post("/v1/webhooks", json=body, headers=who)
        assert answer.status_code == 422 and field in str(answer.json["errors"]), (body, answer.json)
        assert answer.content_type == "application/problem+json"
    for url in ("http://hooks.example.com/in", "https://metadata.internal/latest/meta-data", "https://localhost/"):
        answer = production_client.post("/v1/webhooks", json={"url": url, "events": ["deal.approved"]}, headers=who)
        assert answer.status_code == 422 and "url" in answer.json["errors"], (url, answer.json)
    assert client.patch("/v1/webhooks/not-an-id", json={"enabled": True}, headers=who).status_code == 404


def test_a_partner_has_at_most_the_configured_number_of_endpoints(client):
    who = bearer(unique("p"))
    for n in range(3):
        assert client.post("/v1/webhooks", json={"url": f"https://h.example.com/{n}", "events": ["deal.approved"]},
                           headers=who).status_code == 201
    answer = client.post("/v1/webhooks", json={"url": "https://h.example.com/4", "events": ["deal.approved"]},
                         headers=who)
    assert answer.status_code == 409 and "at most 3" in answer.json["detail"]


def test_patch_rotate_and_delete(client):
    who = bearer(unique("p"))
    endpoint = client.post("/v1/webhooks", json={"url": "https://h.example.com/", "events": ["deal.approved"]},
                           headers=who).json
    patched = client.patch(f"/v1/webhooks/{endpoint['id']}", json={"events": ["deal.expiring", "deal.expired"],
                                                                     "enabled": False}, headers=who).json
    assert patched["events"] == ["deal.expired", "deal.expiring"] and patched["enabled"] is False
    assert patched["disabled_reason"] == "Disabled by the partner."
    assert client.patch(f"/v1/webhooks/{endpoint['id']}", json={}, headers=who).status_code == 422
    rotated = client.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=who).json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
    until = dt.datetime.fromisoformat(rotated["previous_secret_valid_until"])
    assert dt.timedelta(hours=23, minutes=59) < until - utcnow() <= dt.timedelta(hours=24)
    assert client.delete(f"/v1/webhooks/{endpoint['id']}", headers=who).status_code == 204
    assert client.get(f"/v1/webhooks/{endpoint['id']}", headers=who).status_code == 404


# -- queueing and delivering ---------------------------------------------------------------------------------

@dataclasses.dataclass
class FakeSender:
    """Answers each send with the next of `answers` (the last one repeats) and keeps what was sent."""

    answers: list[SendResult]
    sent: list[tuple[webhooks.Target, dict, str]] = dataclasses.field(default_factory=list)

    def send(self, target, headers, body):
        self.sent.append((target, headers, body))
        return self.answers[min(len(self.sent), len(self.answers)) - 1]


OK = SendResult(status=204, latency_ms=12, excerpt="")
DOWN = SendResult(status=503, latency_ms=30, excerpt="x" * 512)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


def add_endpoint(engine, partner_id, events=webhooks.EVENT_TYPES, url="https://hooks.example.com/in"):
    with WebhooksUnitOfWork(engine) as uow:
        endpoint = webhook_handlers.register_endpoint(uow.webhooks, partner_id=partner_id, url=url, events=list(events),
                                                      development=False, resolve=public_resolver, max_endpoints=10)
        uow.commit()
    return endpoint


def stored_registration(engine, partner_id, *, customer_name="Initech GmbH") -> Registration:
    registration = Registration.submit(partner_id=partner_id, channel="reseller", submitted_by="s",
                                       customer={"name": customer_name, "country": "DE"}, products=["p1"],
                                       amount={"amount": "100", "currency": "EUR"}, expected_close="2027-01-01",
                                       contact={"name": "Jo Doe", "email": "jo@initech.de"}, notes="secret notes")
    with SqlDealsUnitOfWork(engine) as uow:
        uow.registrations.add(registration)
        uow.commit()
    registration.events.clear()
    return registration


def saved(engine, registration: Registration) -> Registration:
    """Stored after a transition, as the deals handler stores it before its event reaches the topic."""
    with SqlDealsUnitOfWork(engine) as uow:
        uow.registrations.save(registration)
        uow.commit()
    return registration


def consume(engine, event) -> bool:
    with WebhooksUnitOfWork(engine) as uow:
        first = uow.inbox.mark_processed(event, "deals.registrations.v1")
        if first:
            webhook_handlers.on_deals_event(event, uow=uow)
        uow.commit()
    return first


def deliveries(engine, endpoint_id):
    with WebhooksUnitOfWork(engine) as uow:
        return uow.webhooks.deliveries(endpoint_id, limit=100)


def test_status_changes_become_signed_messages_for_subscribed_endpoints_only(engine):
    partner = unique("p")
    wanted = add_endpoint(engine, partner, events=["deal.approved", "deal.in_conflict"])
    unwanted = add_endpoint(engine, partner, events=["deal.expired"])
    stranger = add_endpoint(engine, unique("p"))
    registration = stored_registration(engine, partner)
    registration.approve(protection=dt.timedelta(days=90), reason="Cleared: no competing registration.")
    approved = registration_event("deal.approved", saved(engine, registration))
    assert consume(engine, approved) and not consume(engine, approved)  # the inbox drops the repeat
    queued = deliveries(engine, wanted["id"])
    assert [d["event_type"] for d in queued] == ["deal.approved"]
    assert deliveries(engine, unwanted["id"]) == deliveries(engine, stranger["id"]) == []
    body = json.loads(queued[0]["payload"])
    assert body["type"] == "deal.approved" and body["data"]["reason"] == "Cleared: no competing registration."
    assert body["data"]["id"] == registration.id and body["data"]["protection_until"]
    assert "contact" not in body["data"] and "notes" not in body["data"]
    assert "jo@initech.de" not in queued[0]["payload"] and "secret notes" not in queued[0]["payload"]

    sender, clock = FakeSender([OK]), Clock()
    uow_factory = lambda: WebhooksUnitOfWork(engine)  # noqa: E731
    assert webhook_handlers.deliver_due(uow_factory, sender=sender, resolve=public_resolver, development=False,
                                        now=clock) == 1
    target, headers, sent_body = sender.sent[0]
    assert target.addresses == (PUBLIC,) and sent_body == queued[0]["payload"]
    assert headers["webhook-id"] == queued[0]["id"] and headers["webhook-id"].startswith("msg_")
    assert webhooks.verify(wanted["secret"], headers, sent_body, now=int(clock.now.timestamp()))
    done = deliveries(engine, wanted["id"])[0]
    assert done["status"] == "succeeded" and [a["response_status"] for a in done["attempts"]] == [204]


def test_one_transaction_reads_a_partners_endpoints_once_and_sees_its_own_changes(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner, events=["deal.approved"])
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with WebhooksUnitOfWork(engine) as uow:
        for _ in range(5):  # a consumer batch: one event after another for the same partner
            assert [e["id"] for e in uow.webhooks.subscribed(partner, "deal.approved")] == [endpoint["id"]]
        assert sum("FROM webhook_endpoints" in s for s in statements) == 1
        uow.webhooks.update_endpoint(endpoint["id"], enabled=False)
        assert uow.webhooks.subscribed(partner, "deal.approved") == []
        uow.commit()


def test_in_conflict_is_one_message_per_case_however_often_the_registration_is_updated(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner)
    registration = stored_registration(engine, partner)
    registration.enter_conflict(case_ref="case-1", reason="Another partner registered this customer first.")
    consume(engine, registration_event("deal.updated", saved(engine, registration)))
    consume(engine, registration_event("deal.updated", saved(engine, registration)))  # e.g. the case changed, same case
    consume(engine, registration_event("deal.submitted", saved(engine, registration)))  # not a webhook event
    assert [d["event_type"] for d in deliveries(engine, endpoint["id"])] == ["deal.in_conflict"]


def test_a_failing_receiver_is_retried_on_schedule_and_the_attempts_are_kept(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner)
    registration = stored_registration(engine, partner)
    registration.reject(reason="The desk awarded this customer to an earlier registration.")
    consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    sender, clock = FakeSender([DOWN, OK]), Clock()
    uow_factory = lambda: WebhooksUnitOfWork(engine)  # noqa: E731
    common = dict(sender=sender, resolve=public_resolver, development=False, now=clock)
    assert webhook_handlers.deliver_due(uow_factory, **common) == 1
    failed = deliveries(engine, endpoint["id"])[0]
    retry_in = webhook_handlers.aware(failed["next_attempt_at"]) - clock.now
    assert failed["status"] == "pending" and dt.timedelta(seconds=5) <= retry_in <= dt.timedelta(seconds=5.5)
    assert len(failed["attempts"][0]["response_excerpt"]) == 512
    assert webhook_handlers.deliver_due(uow_factory, **common) == 0  # not due yet
    clock.now += dt.timedelta(seconds=6)
    assert webhook_handlers.deliver_due(uow_factory, **common) == 1
    done = deliveries(engine, endpoint["id"])[0]
    assert done["status"] == "succeeded" and [a["response_status"] for a in done["attempts"]] == [503, 204]
    assert sender.sent[0][1]["webhook-id"] == sender.sent[1][1]["webhook-id"]  # the same message id each time
    with WebhooksUnitOfWork(engine) as uow:
        assert uow.webhooks.endpoint(endpoint["id"])["failing_since"] is None


def test_an_endpoint_failing_for_the_whole_schedule_is_disabled_and_says_why(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner)
    registration = stored_registration(engine, partner)
    registration.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    sender, clock = FakeSender([SendResult(status=None, latency_ms=10_000, error="timed out")]), Clock()
    uow_factory = lambda: WebhooksUnitOfWork(engine)  # noqa: E731
    for _ in range(webhooks.MAX_ATTEMPTS):
        assert webhook_handlers.deliver_due(uow_factory, sender=sender, resolve=public_resolver, development=False,
                                            now=clock) == 1
        due = webhook_handlers.aware(deliveries(engine, endpoint["id"])[0]["next_attempt_at"])
        clock.now = (due or clock.now) + dt.timedelta(seconds=1)  # just past the (jittered) retry time
    assert len(sender.sent) == webhooks.MAX_ATTEMPTS
    gave_up = deliveries(engine, endpoint["id"])[0]
    assert gave_up["status"] == "failed" and len(gave_up["attempts"]) == webhooks.MAX_ATTEMPTS
    with WebhooksUnitOfWork(engine) as uow:
        disabled = webhook_handlers.public_endpoint(uow.webhooks.endpoint(endpoint["id"]))
    assert disabled["enabled"] is False and "Every delivery failed since" in disabled["disabled_reason"]
    # Nothing new is queued for a disabled endpoint.
    registration.events.clear()
    other = stored_registration(engine, partner)
    other.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, other)))
    assert len(deliveries(engine, endpoint["id"])) == 1


def test_410_gone_disables_at_once(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner)
    registration = stored_registration(engine, partner)
    registration.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    webhook_handlers.deliver_due(lambda: WebhooksUnitOfWork(engine), sender=FakeSender([SendResult(410, 5)]),
                                 resolve=public_resolver, development=False)
    with WebhooksUnitOfWork(engine) as uow:
        assert "410 Gone" in uow.webhooks.endpoint(endpoint["id"])["disabled_reason"]


def test_the_address_is_checked_again_at_delivery_and_a_private_one_is_never_contacted(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner)  # resolved to a public address when registered
    registration = stored_registration(engine, partner)
    registration.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    sender = FakeSender([OK])
    webhook_handlers.deliver_due(lambda: WebhooksUnitOfWork(engine), sender=sender,
                                 resolve=lambda host, port: ["10.0.0.7"], development=False)  # DNS now points inside
    assert sender.sent == []
    attempt = deliveries(engine, endpoint["id"])[0]["attempts"][0]
    assert attempt["response_status"] is None and attempt["error"].startswith("refused before sending")


def test_during_a_rotation_both_secrets_sign(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner)
    with WebhooksUnitOfWork(engine) as uow:
        rotated = webhook_handlers.rotate_secret(uow.webhooks, endpoint["id"], partner_id=partner)
        uow.commit()
    registration = stored_registration(engine, partner)
    registration.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    sender = FakeSender([OK])
    webhook_handlers.deliver_due(lambda: WebhooksUnitOfWork(engine), sender=sender, resolve=public_resolver,
                                 development=False)
    _, headers, body = sender.sent[0]
    now = int(utcnow().timestamp())
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert webhooks.verify(rotated["secret"], headers, body, now=now)
    assert webhooks.verify(endpoint["secret"], headers, body, now=now)


def test_replay_sends_a_finished_delivery_once_more_with_the_same_id(client, engine):
    partner = unique("p")
    who = bearer(partner)
    endpoint = client.post("/v1/webhooks", json={"url": "https://h.example.com/", "events": ["deal.rejected"]},
                           headers=who).json
    registration = stored_registration(engine, partner)
    registration.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    page = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=who).json
    delivery = page["items"][0]
    assert delivery["status"] == "pending" and page["next_cursor"] is None
    path = f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/replay"
    assert client.post(path, headers=who).status_code == 409  # still being tried
    sender = FakeSender([OK, DOWN])
    uow_factory = lambda: WebhooksUnitOfWork(engine)  # noqa: E731
    webhook_handlers.deliver_due(uow_factory, sender=sender, resolve=public_resolver, development=False)
    assert client.post(path, headers=who).status_code == 202
    webhook_handlers.deliver_due(uow_factory, sender=sender, resolve=public_resolver, development=False)
    replayed = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", headers=who).json["items"][0]
    assert [(a["trigger"], a["response_status"]) for a in replayed["attempts"]] == [("scheduled", 204),
                                                                                   ("replay", 503)]
    assert replayed["status"] == "failed" and replayed["attempt_count"] == 1  # a replay is one attempt, no schedule
    assert sender.sent[0][1]["webhook-id"] == sender.sent[1][1]["webhook-id"] == delivery["id"]
    assert client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/msg_nope/replay", headers=who).status_code == 404


def test_deliveries_page_newest_first_with_a_cursor(client, engine):
    partner = unique("p")
    who = bearer(partner)
    endpoint = client.post("/v1/webhooks", json={"url": "https://h.example.com/", "events": ["deal.rejected"]},
                           headers=who).json
    for _ in range(3):
        registration = stored_registration(engine, partner)
        registration.reject(reason="Rejected.")
        consume(engine, registration_event("deal.rejected", saved(engine, registration)))
    first = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries?limit=2", headers=who).json
    second = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries?limit=2&cursor={first['next_cursor']}",
                        headers=who).json
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3 and second["next_cursor"] is None
    assert client.get(f"/v1/webhooks/{endpoint['id']}/deliveries?cursor=zzz", headers=who).status_code == 422


def test_expiring_is_queued_once_per_protection_end_within_seven_days(engine):
    partner = unique("p")
    endpoint = add_endpoint(engine, partner, events=["deal.expiring"])
    soon, later = stored_registration(engine, partner), stored_registration(engine, partner)
    now = utcnow()
    soon.approve(protection=dt.timedelta(days=5), reason="Cleared.", now=now)
    later.approve(protection=dt.timedelta(days=30), reason="Cleared.", now=now)
    with SqlDealsUnitOfWork(engine) as uow:
        uow.registrations.save(soon)
        uow.registrations.save(later)
        uow.commit()
    for _ in range(2):
        with WebhooksUnitOfWork(engine) as uow:
            webhook_handlers.enqueue_expiring(uow, now)
            uow.commit()
    queued = deliveries(engine, endpoint["id"])
    assert [(d["event_type"], d["deal_id"]) for d in queued] == [("deal.expiring", soon.id)]
    assert json.loads(queued[0]["payload"])["data"]["status"] == "approved"


def test_the_worker_loop_sends_what_is_queued_and_queues_expiring_notices_until_stopped(engine):
    import threading

    from services.deals.workers.webhooks import DeliveryLoop

    partner = unique("p")
    endpoint = add_endpoint(engine, partner, events=["deal.rejected", "deal.expiring"])
    rejected = stored_registration(engine, partner)
    rejected.reject(reason="Rejected.")
    consume(engine, registration_event("deal.rejected", saved(engine, rejected)))
    ending = stored_registration(engine, partner)
    ending.approve(protection=dt.timedelta(days=2), reason="Cleared.")
    saved(engine, ending)
    sender, stop = FakeSender([OK]), threading.Event()
    loop = DeliveryLoop(lambda: WebhooksUnitOfWork(engine), sender=sender, development=False, poll_s=0.05,
                        timeout_s=1.0, resolver=public_resolver)
    worker = threading.Thread(target=loop.keep_delivering, args=(stop,))
    worker.start()
    try:
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while len(sender.sent) < 2 and dt.datetime.now() < deadline:
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert sorted(json.loads(body)["type"] for _, _, body in sender.sent) == ["deal.expiring", "deal.rejected"]
    assert {d["status"] for d in deliveries(engine, endpoint["id"])} == {"succeeded"}
