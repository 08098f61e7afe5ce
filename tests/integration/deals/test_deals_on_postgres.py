"""Registrations on PostgreSQL: the expiry job, access to other partners' ids, the pre-check and its limit."""
import datetime as dt
import json
import uuid

import sqlalchemy as sa

from services.deals import handlers
from services.deals.storage.tables import outbox, registrations
from tests.integration.deals.builders import body


def submit(deals_app, who, document=None) -> dict:
    response = deals_app.client.post("/v1/deals", json=document or body(deals_app.product), headers=who)
    assert response.status_code == 201, response.json
    return response.json


def approve(deals_app, deal_id: str) -> None:
    from shared.events import CloudEvent

    event = CloudEvent(type="registration.cleared", source="/it", subject=deal_id,
                       data={"deal_id": deal_id, "reason": "No competing registration.", "evidence": []})
    with deals_app.deals.uow_factory() as uow:
        handlers.on_registration_cleared(event, uow=uow, policy=deals_app.deals.policy)
        uow.commit()


def outbox_types(engine, subject: str) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox.c.event_type).where(outbox.c.message_key == subject)
                                       .order_by(outbox.c.id)).scalars())


def test_the_expiry_job_expires_only_protection_that_has_passed_and_emits_deal_expired(deals_app):
    who = deals_app.bearer()
    due, current = submit(deals_app, who)["id"], submit(deals_app, who)["id"]
    approve(deals_app, due)
    approve(deals_app, current)
    deals = deals_app.deals
    later = dt.datetime.now(dt.UTC) + deals.policy.protection + dt.timedelta(minutes=1)
    with deals.engine.begin() as connection:  # only `due` has reached the end of its protection
        connection.execute(registrations.update().where(registrations.c.id == current)
                           .values(protection_until=later + dt.timedelta(days=1)))
    assert handlers.expire_due(uow_factory=deals.uow_factory, now=later) == 1
    assert handlers.expire_due(uow_factory=deals.uow_factory, now=later) == 0, "a second run finds nothing"
    expired = deals_app.client.get(f"/v1/deals/{due}", headers=who).json
    assert expired["status"] == "expired" and expired["history"][-1]["reason"]
    assert outbox_types(deals.engine, due) == ["deal.submitted", "deal.approved", "deal.expired"]
    assert deals_app.client.get(f"/v1/deals/{current}", headers=who).json["status"] == "approved"


def test_every_endpoint_that_takes_an_id_answers_404_to_another_partner(deals_app):
    owner, intruder = deals_app.bearer(), deals_app.bearer()
    deal_id = submit(deals_app, owner)["id"]
    approve(deals_app, deal_id)
    before = deals_app.client.get(f"/v1/deals/{deal_id}", headers=owner).json
    calls = [("GET", "", None), ("PATCH", "", {"notes": "mine now"}), ("POST", "/withdraw", None),
             ("POST", "/extend", None), ("POST", "/close", {"outcome": "won"})]
    for method, suffix, payload in calls:
        response = deals_app.client.open(f"/v1/deals/{deal_id}{suffix}", method=method, json=payload,
                                         headers=intruder)
        missing = deals_app.client.open(f"/v1/deals/{uuid.uuid4()}{suffix}", method=method, json=payload,
                                        headers=intruder)
        assert response.status_code == 404, (method, suffix, response.json)
        assert response.json == missing.json, "not yours reads exactly like does not exist"
    listed = deals_app.client.get("/v1/deals", headers=intruder).json["items"]
    assert deal_id not in {d["id"] for d in listed}
    assert deals_app.client.get(f"/v1/deals/{deal_id}", headers=owner).json == before
    assert deals_app.client.get(f"/v1/deals/{deal_id}", headers=deals_app.bearer("desk")).status_code == 200


def test_the_precheck_finds_other_partners_claims_and_is_limited_across_the_database(deals_app):
    holder, asker = deals_app.bearer(), deals_app.bearer()
    document = body(deals_app.product)
    document["customer"].update(tax_id="DE 123-456-789", duns="12-345-6789")
    submit(deals_app, holder, document)
    query = {"customer": {"name": "Anything", "country": "DE", "duns": "123456789"}, "products": [deals_app.product]}
    answer = deals_app.client.post("/v1/deals/check", json=query, headers=asker)
    assert answer.status_code == 200 and answer.json["result"] == "claimed"
    assert holder["Authorization"] not in json.dumps(answer.json)
    by_name = {"customer": {"name": document["customer"]["name"].upper(), "country": "DE"},
               "products": [deals_app.product]}
    assert deals_app.client.post("/v1/deals/check", json=by_name, headers=asker).json["result"] == "review"
    # Twice the limit, so a minute boundary passing mid-test still ends in a full window.
    responses = [deals_app.client.post("/v1/deals/check", json=query, headers=asker)
                 for _ in range(2 * deals_app.deals.limits.checks_per_minute)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "the pre-check limit counts in the database, shared by every API process"
    assert int(limited[0].headers["Retry-After"]) >= 1


def test_listing_filters_and_pages_on_postgres(deals_app):
    who = deals_app.bearer()
    ids = [submit(deals_app, who)["id"] for _ in range(5)]
    approve(deals_app, ids[0])
    seen, cursor = [], None
    while True:
        page = deals_app.client.get("/v1/deals", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                                    headers=who).json
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids)), "newest first, each exactly once"
    approved = deals_app.client.get("/v1/deals?status=approved", headers=who).json["items"]
    assert [d["id"] for d in approved] == [ids[0]]
