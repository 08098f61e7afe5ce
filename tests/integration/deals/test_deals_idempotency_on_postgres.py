"""Idempotency-Key on PostgreSQL: replays, other bodies, and concurrent requests that carry one key."""
import datetime as dt
import threading
import uuid

import sqlalchemy as sa

from services.deals import handlers
from services.deals.domain.idempotency import request_fingerprint
from services.deals.storage.tables import idempotency_records, outbox, registrations
from shared.auth import Principal
from tests.integration.deals.builders import body


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_concurrent_requests_with_one_key_create_one_registration(deals_app):
    who, key, document = deals_app.bearer(), {"Idempotency-Key": str(uuid.uuid4())}, body(deals_app.product)
    start, responses = threading.Barrier(8), []

    def send():
        client = deals_app.client.application.test_client()
        start.wait()
        responses.append(client.post("/v1/deals", json=document, headers={**who, **key}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    created = [r for r in responses if r.status_code == 201]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_flight) == 8, [r.status_code for r in responses]
    assert len({r.data for r in created}) == 1, "every 201 is the same registration, replayed exactly"
    assert all("still being processed" in r.json["detail"] for r in in_flight)
    assert count(deals_app.deals.engine, registrations) == 1
    assert count(deals_app.deals.engine, outbox) == 1


def test_a_request_arriving_while_the_first_holds_the_key_is_409_then_replays(deals_app):
    partner_id = f"it-{uuid.uuid4().hex[:8]}"
    who = deals_app.bearer(partner_id=partner_id)
    principal = Principal(sub=f"partner:{partner_id}", role="partner", partner_id=partner_id, channel="reseller")
    key, document = str(uuid.uuid4()), body(deals_app.product)
    deals = deals_app.deals
    # A first request has claimed the key (committed in its own transaction) and is still working.
    with deals.uow_factory() as uow:
        assert uow.idempotency.claim(principal.owner_key, key, request_fingerprint(document),
                                     now=dt.datetime.now(dt.UTC), ttl=dt.timedelta(hours=24),
                                     abandoned_after=dt.timedelta(minutes=5)) is None
        uow.commit()
    second = deals_app.client.post("/v1/deals", json=document, headers={**who, "Idempotency-Key": key})
    assert second.status_code == 409 and second.headers["Retry-After"] == "1"

    with deals.uow_factory() as uow:  # the first request failed and gave the key back
        uow.idempotency.release(principal.owner_key, key)
        uow.commit()
    first = deals_app.client.post("/v1/deals", json=document, headers={**who, "Idempotency-Key": key})
    replay = deals_app.client.post("/v1/deals", json=document, headers={**who, "Idempotency-Key": key})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert replay.status_code == 201 and replay.data == first.data and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Location"] == first.headers["Location"] and replay.headers["ETag"] == first.headers["ETag"]
    other = deals_app.client.post("/v1/deals", json={**document, "notes": "x"}, headers={**who, "Idempotency-Key": key})
    assert other.status_code == 409 and "different request body" in other.json["detail"]


def test_keys_older_than_a_day_are_pruned_and_free_again(deals_app):
    who, key, document = deals_app.bearer(), str(uuid.uuid4()), body(deals_app.product)
    first = deals_app.client.post("/v1/deals", json=document, headers={**who, "Idempotency-Key": key})
    assert first.status_code == 201
    deals = deals_app.deals
    handlers.prune_bookkeeping(uow_factory=deals.uow_factory, limits=deals.limits,
                               now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=24, minutes=1))
    assert count(deals.engine, idempotency_records) == 0
    again = deals_app.client.post("/v1/deals", json=document, headers={**who, "Idempotency-Key": key})
    assert again.status_code == 201 and again.json["id"] != first.json["id"]
