"""Erasing a registration's personal data (admin): the contact and the notes go, everywhere deals keeps a copy; the
history says who erased which fields when; deal.erased tells conflict; erasing again changes nothing."""
import dataclasses
import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa

from services.deals import handlers
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.domain.commands import SubmitDeal
from services.deals.domain.idempotency import request_fingerprint
from services.deals.domain.model import Registration
from services.deals.limits import DealLimits
from services.deals.settings import DealsSettings
from services.deals.storage import tables
from shared.auth import Principal
from shared.bus import InMemoryBus
from shared.db import upgrade_to_head
from shared.events import CloudEvent
from shared.identity import customer_keys
from tests.unit.deals.fakes import FakeDealsUnitOfWork, deal_fields, listing, partner

EMAIL = "ines.persoenlich@kunde-example.de"
ADMIN = Principal(sub="admin:ops-7", role="admin")


def personal_fields(products):
    return deal_fields(products, contact={"name": "Ines Persoenlich", "email": EMAIL},
                       notes="Ines prefers calls on Fridays", opportunity_name="Kunde renewal")


def send(uow_factory, who, fields, key):
    command = SubmitDeal(**fields, customer_keys=customer_keys(fields["customer"]), idempotency_key=key,
                         request_fingerprint=request_fingerprint(fields))
    return handlers.submit_deal(command, principal=who, limits=DealLimits(), uow_factory=uow_factory)


@pytest.fixture
def uow():
    return FakeDealsUnitOfWork()


def test_erasure_redacts_the_contact_and_notes_and_keeps_an_audit_entry_without_the_values(uow):
    product = listing()
    uow.catalog.upsert(product)
    who, fields = partner(), personal_fields([product["id"]])
    submitted = send(lambda: uow, who, fields, key="erase-me")
    erased = handlers.erase_deal(submitted.deal_id, principal=ADMIN, uow=uow)

    assert (erased.contact, erased.notes) == (None, None)
    assert erased.opportunity_name == "Kunde renewal", "business data stays"
    assert erased.version == submitted.version + 1 and erased.status == "submitted"
    entry = erased.history[-1].to_dict()
    assert entry["by"] == "admin:ops-7" and entry["erased"] == ["contact.email", "contact.name", "notes"]
    assert entry["status"] == "submitted" and entry["at"]
    assert EMAIL not in json.dumps(erased.public_dict()) and "Fridays" not in json.dumps(erased.public_dict())

    [event] = uow.events_of_type("deal.erased")
    assert event.subject == submitted.deal_id and event.data["erased"] == entry["erased"]
    assert event.data["contact"] is None and EMAIL not in json.dumps(event.data)

    replay = send(lambda: uow, who, fields, key="erase-me")
    assert replay.replayed and EMAIL not in replay.acknowledged and "Fridays" not in replay.acknowledged
    assert json.loads(replay.acknowledged)["id"] == submitted.deal_id


def test_erasing_again_changes_nothing_and_an_unknown_registration_is_not_found(uow):
    product = listing()
    uow.catalog.upsert(product)
    submitted = send(lambda: uow, partner(), personal_fields([product["id"]]), key=None)
    first = handlers.erase_deal(submitted.deal_id, principal=ADMIN, uow=uow)
    again = handlers.erase_deal(submitted.deal_id, principal=ADMIN, uow=uow)
    assert again.version == first.version and len(again.history) == len(first.history)
    assert len(uow.events_of_type("deal.erased")) == 1
    with pytest.raises(handlers.NotFound):
        handlers.erase_deal(str(uuid.uuid4()), principal=ADMIN, uow=uow)


def test_a_registration_without_personal_data_has_nothing_to_erase():
    registration = Registration.submit(partner_id="p", channel="reseller", submitted_by="partner:p",
                                       customer={"name": "Acme", "country": "DE"}, products=["x"],
                                       amount={"amount": "1.00", "currency": "EUR"}, expected_close="2030-01-01")
    assert registration.erase(by="admin:x") == []
    assert [h.status for h in registration.history] == ["submitted"]


@pytest.fixture
def deals(tmp_path):
    settings = dataclasses.replace(DealsSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)}),
                                   relay_doorbell=None)
    upgrade_to_head(settings.database_url, MIGRATIONS)
    service = bootstrap(settings, bus=InMemoryBus())
    yield service
    service.engine.dispose()


def test_on_the_database_every_copy_goes_the_idempotency_record_and_old_outbox_rows(deals):
    product = listing()
    with deals.uow_factory() as uow:
        uow.catalog.upsert(product)
        uow.commit()
    submitted = send(deals.uow_factory, partner(), personal_fields([product["id"]]), key="sql-erase")
    # An event as deals wrote them before events stopped carrying the contact: still waiting in the outbox.
    legacy = CloudEvent(type="deal.updated", source="/dealgate/deals", subject=submitted.deal_id,
                        data={**json.loads(submitted.acknowledged), "status": "approved"})
    with deals.engine.begin() as connection:
        connection.execute(tables.outbox.insert().values(
            event_id=legacy.id, topic="deals.registrations.v1", message_key=submitted.deal_id,
            event_type=legacy.type, payload=legacy.to_json().decode(), created_at=dt.datetime.now(dt.UTC)))

    handlers.erase_deal(submitted.deal_id, principal=ADMIN, uow=deals.uow_factory())
    with deals.engine.connect() as connection:
        rows = {table.name: [json.dumps(list(row), default=str) for row in connection.execute(sa.select(table))]
                for table in (tables.registrations, tables.idempotency_records, tables.outbox)}
    for table, texts in rows.items():
        assert texts, table
        assert not [text for text in texts if EMAIL in text or "Fridays" in text or "Ines" in text], table
    erased = [json.loads(text) for text in rows["outbox"] if '"deal.erased"' in text]
    assert len(erased) == 1


def test_the_erase_endpoint_is_for_admins_and_answers_the_redacted_registration():
    from tests.unit.deals.test_deals_api import bearer, make_client

    uow = FakeDealsUnitOfWork()
    product = listing()
    uow.catalog.upsert(product)
    client = make_client(uow)
    owner = bearer("partner", partner_id="erase-owner")
    created = client.post("/v1/deals", headers=owner, json=personal_fields([product["id"]]))
    assert created.status_code == 201, created.json
    path = f"/v1/deals/{created.json['id']}/erase"
    for role in ("partner", "sales", "desk"):
        assert client.post(path, headers=bearer(role)).status_code == 403
    assert client.post(path, headers=owner).status_code == 403, "not even the registration's own partner"
    assert client.post(path).status_code == 401
    erased = client.post(path, headers=bearer("admin"))
    assert erased.status_code == 200 and erased.headers["ETag"] == '"2"'
    assert erased.json["contact"] is None and erased.json["notes"] is None
    assert erased.json["history"][-1]["erased"] == ["contact.email", "contact.name", "notes"]
    assert erased.json["history"][-1]["by"].startswith("admin:")
    assert EMAIL not in client.get(f"/v1/deals/{created.json['id']}", headers=owner).text
    assert client.post(f"/v1/deals/{uuid.uuid4()}/erase", headers=bearer("admin")).status_code == 404
