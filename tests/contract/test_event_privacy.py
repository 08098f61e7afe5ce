"""Events carry what their consumers need and no personal data: of a registration's contact, conflict gets the
registrable domain of the e-mail address; the name, the address, the notes and the opportunity name stay in deals,
and conflict stores none of them."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from shared.auth import TokenService
from shared.events import CloudEvent
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES, DEALS_REGISTRATIONS
from tests.contract.pipeline import Pipeline
from tests.contract.test_event_contracts import CONTRACTS

PERSONAL = ("Ingrid Privatperson", "ingrid.privat@contoso-privacy.de", "Bernd Freemail", "bernd.freemail@gmail.com",
            "call Ingrid on +49 30 5550199", "Ingrid's renewal")


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("privacy"))
    tokens = TokenService(pipeline.services["deals"].settings.jwt_secret)
    admin = {"Authorization": "Bearer " + tokens.issue("admin")}
    catalog, deals = pipeline.apps["catalog"], pipeline.apps["deals"]
    listing = catalog.post("/v1/listings", headers=admin, json={
        "title": "Privacy Suite", "summary": "x", "vendor": "V", "category": "privacy", "tags": ["t"],
        "offers": [{"name": "Std", "channels": ["reseller", "direct"], "regions": ["EMEA"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "EUR"}}}]}).json
    catalog.post(f"/v1/listings/{listing['id']}/publish", headers=admin)
    pipeline.settle()

    reseller = {"Authorization": "Bearer " + tokens.issue("partner", partner_id="privacy-reseller")}
    sales = {"Authorization": "Bearer " + tokens.issue("sales")}
    close = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {"customer": {"name": "Contoso Privacy GmbH", "domain": "contoso-privacy.de", "country": "DE"},
            "products": [listing["id"]], "amount": {"amount": "100.00", "currency": "EUR"}, "expected_close": close,
            "contact": {"name": "Ingrid Privatperson", "email": "ingrid.privat@contoso-privacy.de"},
            "notes": "call Ingrid on +49 30 5550199", "opportunity_name": "Ingrid's renewal"}
    first = deals.post("/v1/deals", headers=reseller, json=body)
    assert first.status_code == 201, first.json
    pipeline.settle()
    amended = deals.patch(f"/v1/deals/{first.json['id']}", headers={**reseller, "If-Match": "*"},
                          json={"notes": "call Ingrid on +49 30 5550199 after 3pm"})
    assert amended.status_code == 200, amended.json
    second = deals.post("/v1/deals", headers=sales, json={
        **body, "customer": {"name": "CONTOSO PRIVACY", "country": "DE"},
        "contact": {"name": "Bernd Freemail", "email": "bernd.freemail@gmail.com"}})
    assert second.status_code == 201, second.json
    pipeline.settle()
    return pipeline, first.json["id"], second.json["id"]


def test_no_event_on_any_topic_carries_personal_data(traffic):
    pipeline, _, _ = traffic
    for topic in (CATALOG_LISTINGS, DEALS_REGISTRATIONS, CONFLICT_CASES):
        for message in pipeline.bus.messages(topic):
            text = message.value.decode()
            assert not [value for value in PERSONAL if value in text], f"{topic}: {text[:300]}"


def test_deal_events_carry_the_contacts_email_domain_and_none_for_free_mail(traffic):
    pipeline, corporate, free_mail = traffic
    events = [CloudEvent.from_json(m.value) for m in pipeline.bus.messages(DEALS_REGISTRATIONS)]
    assert {e.type for e in events} >= {"deal.submitted", "deal.updated"}
    for event in events:
        expected = {corporate: "contoso-privacy.de", free_mail: None}[event.subject]
        assert event.data["contact"] == {"email_domain": expected}
        assert not {"notes", "opportunity_name", "history", "reason"} & set(event.data)


def test_conflict_stores_no_contact_person_in_registrations_or_cases(traffic):
    pipeline, corporate, free_mail = traffic
    with pipeline.services["conflict"].engine.connect() as connection:
        rows = {table: [json.dumps(list(row), default=str)
                        for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]  # noqa: S608 - our names
                for table in ("registrations", "cases", "outbox", "registration_keys")}
    assert len(rows["registrations"]) == 2 and rows["cases"], "both registrations tracked, in one case"
    for table, texts in rows.items():
        for text in texts:
            assert not [value for value in PERSONAL if value in text], f"{table}: {text[:300]}"


def test_an_erasure_reaches_conflict_and_leaves_no_copy_in_either_database(traffic):
    pipeline, corporate, _ = traffic
    tokens = TokenService(pipeline.services["deals"].settings.jwt_secret)
    erased = pipeline.apps["deals"].post(f"/v1/deals/{corporate}/erase",
                                         headers={"Authorization": "Bearer " + tokens.issue("admin")})
    assert erased.status_code == 200, erased.json
    pipeline.settle()
    [event] = [CloudEvent.from_json(m.value) for m in pipeline.bus.messages(DEALS_REGISTRATIONS)
               if CloudEvent.from_json(m.value).type == "deal.erased"]
    assert event.subject == corporate and event.data["erased"] == ["contact.email", "contact.name", "notes"]
    assert CONTRACTS[event.type]().validate(event.data) == {}, "conflict reads deal.erased like any deal event"
    with pipeline.services["conflict"].engine.connect() as connection:
        document = connection.execute(sa.text("SELECT document FROM registrations WHERE deal_id = :id"),
                                      {"id": corporate}).scalar_one()
    assert json.loads(document)["contact"] is None if isinstance(document, str) else document["contact"] is None
    with pipeline.services["deals"].engine.connect() as connection:
        texts = [json.dumps(list(row), default=str) for table in ("registrations", "idempotency_records", "outbox")
                 for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]  # noqa: S608 - our names
    erased_rows = [text for text in texts if corporate in text]
    assert erased_rows
    assert not [text for text in erased_rows
                if "Ingrid Privatperson" in text or "ingrid.privat@" in text or "5550199" in text]
