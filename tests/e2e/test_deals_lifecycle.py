"""A partner's registrations over HTTP and Kafka, with real verdicts from the conflict service."""
import datetime as dt
import time
import uuid

import sqlalchemy as sa

from services.deals.domain.model import iso, parse_iso
from services.deals.storage.tables import registrations
from shared.db import create_engine


def move_protection_end(stack, deal_id: str, until: dt.datetime) -> None:
    """Time travel: the only thing faked here is the calendar, by moving the end of protection in the database."""
    engine = create_engine(stack.extra_env["DEALS_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            document = connection.execute(sa.select(registrations.c.document)
                                          .where(registrations.c.id == deal_id)).scalar_one()
            document = {**document, "protection_until": iso(until)}
            connection.execute(registrations.update().where(registrations.c.id == deal_id)
                               .values(protection_until=until, document=document))
    finally:
        engine.dispose()


def approved_deal(api, partner, listing_id) -> dict:
    submitted = api.submit(partner, [listing_id])
    assert submitted.status_code == 201, submitted.text
    deal = api.wait_for_verdict(submitted.json()["id"], partner)
    assert deal["status"] == "approved", deal
    return deal


def test_submit_is_approved_with_a_protection_window_then_withdrawn_or_closed_as_won(api):
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id=f"e2e-life-{uuid.uuid4().hex[:6]}")

    deal = approved_deal(api, partner, listing_id)
    window = parse_iso(deal["protection_until"]) - parse_iso(deal["history"][-1]["at"])
    assert abs(window - dt.timedelta(days=90)) < dt.timedelta(seconds=5)
    assert deal["reason"] and all(h["reason"] and h["at"] for h in deal["history"])

    withdrawn = api.call("POST", "deals", f"/v1/deals/{deal['id']}/withdraw", as_=partner)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert api.call("POST", "deals", f"/v1/deals/{deal['id']}/withdraw", as_=partner).status_code == 409

    other = approved_deal(api, partner, listing_id)
    won = api.call("POST", "deals", f"/v1/deals/{other['id']}/close", as_=partner, json={"outcome": "won"})
    assert won.status_code == 200 and won.json()["status"] == "won"
    assert [h["status"] for h in won.json()["history"]] == ["submitted", "approved", "won"]


def test_an_extension_is_allowed_once_in_the_last_days_of_protection_then_refused(api, stack):
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id=f"e2e-ext-{uuid.uuid4().hex[:6]}")
    deal = approved_deal(api, partner, listing_id)

    too_early = api.call("POST", "deals", f"/v1/deals/{deal['id']}/extend", as_=partner)
    assert too_early.status_code == 409 and "last 14 days" in too_early.json()["detail"]

    ends = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)
    move_protection_end(stack, deal["id"], ends)
    extended = api.call("POST", "deals", f"/v1/deals/{deal['id']}/extend", as_=partner)
    assert extended.status_code == 200, extended.text
    assert parse_iso(extended.json()["protection_until"]) == ends + dt.timedelta(days=30)
    assert extended.json()["extensions_used"] == 1

    move_protection_end(stack, deal["id"], ends)
    refused = api.call("POST", "deals", f"/v1/deals/{deal['id']}/extend", as_=partner)
    assert refused.status_code == 409 and "already used" in refused.json()["detail"]


def test_the_expiry_job_expires_a_registration_whose_protection_passed(api, stack):
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id=f"e2e-exp-{uuid.uuid4().hex[:6]}")
    deal = approved_deal(api, partner, listing_id)
    move_protection_end(stack, deal["id"], dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = api.call("GET", "deals", f"/v1/deals/{deal['id']}", as_=partner).json()
        if current["status"] == "expired":
            break
        time.sleep(0.2)
    assert current["status"] == "expired" and current["reason"]


def test_every_deals_call_answers_as_specified_for_a_new_user(api):
    listing_id = api.published_listing()
    partner = api.headers("partner", partner_id=f"e2e-new-{uuid.uuid4().hex[:6]}")
    stranger = api.headers("partner", partner_id=f"e2e-stranger-{uuid.uuid4().hex[:6]}")
    body = {"customer": {"name": "Newcomer Ltd", "domain": f"https://www.{uuid.uuid4().hex[:8]}.co.uk/",
                         "country": "GB"},
            "products": [listing_id], "amount": {"amount": "1200.50", "currency": "GBP"},
            "expected_close": (dt.date.today() + dt.timedelta(days=20)).isoformat()}
    api.submit(partner, [listing_id])  # waits until deals has seen the listing

    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.call("POST", "deals", "/v1/deals", as_={**partner, **key}, json=body)
    replay = api.call("POST", "deals", "/v1/deals", as_={**partner, **key}, json=body)
    assert first.status_code == replay.status_code == 201 and replay.content == first.content
    assert first.headers["Location"] == f"/v1/deals/{first.json()['id']}"
    assert api.call("POST", "deals", "/v1/deals", as_={**partner, **key},
                    json={**body, "notes": "changed"}).status_code == 409
    deal_id = first.json()["id"]

    assert api.call("POST", "deals", "/v1/deals", json=body).status_code == 401
    assert api.call("POST", "deals", "/v1/deals", as_=api.headers("desk"), json=body).status_code == 403
    bad = api.call("POST", "deals", "/v1/deals", as_=partner, json={**body, "amount": {"amount": "-1",
                                                                                       "currency": "GBP"}})
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert "amount.amount" in bad.json()["errors"]
    assert api.call("POST", "deals", "/v1/deals", as_={**partner, "Content-Type": "application/json"},
                    data=b"{oops").status_code == 400

    listed = api.call("GET", "deals", "/v1/deals?limit=1", as_=partner).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    assert api.call("GET", "deals", f"/v1/deals/{deal_id}", as_=stranger).status_code == 404
    assert api.call("GET", "deals", f"/v1/deals/{deal_id}", as_=api.headers("desk")).status_code == 200

    check = api.call("POST", "deals", "/v1/deals/check", as_=stranger,
                     json={"customer": body["customer"], "products": [listing_id]})
    assert check.status_code == 200 and check.json()["result"] == "claimed"
    assert "e2e-new" not in check.text
