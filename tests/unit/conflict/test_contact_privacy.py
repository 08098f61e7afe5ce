"""Conflict keeps no contact person: of a registration's contact only the e-mail's registrable domain, which still
counts as customer evidence. Events published before deals stopped sending the whole contact are still accepted."""
import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from services.conflict import handlers
from services.conflict.bootstrap import MIGRATIONS
from services.conflict.overlaps import OverlapDetector
from services.conflict.storage.tables import registrations
from shared.db import create_engine
from tests.unit.conflict.builders import MONDAY_10AM, RULES, changed, deal, submitted, unique
from tests.unit.conflict.fakes import FakeConflictUnitOfWork, FakeDatabase

OLD_CONTACT = {"name": "Jo Contact", "email": "jo.contact@acme-widgets.de"}


def judge(data, db, detector):
    uow = FakeConflictUnitOfWork(db)
    with uow:
        handlers.on_deal_submitted(submitted(data), uow=uow, detector=detector, rules=RULES, now=MONDAY_10AM)
        uow.commit()
    return uow


def test_an_old_event_with_the_whole_contact_is_stored_with_its_domain_only():
    db = FakeDatabase()
    uow = judge(deal(contact=OLD_CONTACT), db, OverlapDetector())
    [stored] = db.registrations.values()
    assert stored.contact == {"email_domain": "acme-widgets.de"}
    assert "jo.contact" not in json.dumps(stored.to_dict()) and "Jo Contact" not in json.dumps(stored.to_dict())
    assert all("jo.contact" not in json.dumps(event.data) for _, event in uow.published)


def test_a_free_mail_address_leaves_no_domain_and_unknown_contact_keys_are_dropped():
    db = FakeDatabase()
    judge(deal(contact={"name": "Jo", "email": "jo@gmail.com", "phone": "+49 30 1234567"}), db, OverlapDetector())
    judge(deal(contact={"email_domain": "Globex.example.co.uk", "name": "Should not be here"}), db, OverlapDetector())
    assert sorted(r.contact["email_domain"] or "" for r in db.registrations.values()) == ["", "example.co.uk"]
    assert all(set(r.contact) == {"email_domain"} for r in db.registrations.values())


def test_the_contact_domain_still_matches_an_old_event_to_a_new_one():
    db, detector, product = FakeDatabase(), OverlapDetector(), unique("listing")
    judge(deal(channel="reseller", customer={"name": "ACME Widgets", "country": "DE"}, contact=OLD_CONTACT,
               products=[product]), db, detector)
    uow = judge(deal(channel="direct", customer={"name": "Acme Widgets GmbH", "country": "DE"},
                     contact={"email_domain": "acme-widgets.de"}, products=[product]), db, detector)
    [opened] = uow.events_of_type("case.opened")
    [case] = db.cases.values()
    signals = [s for e in case["evidence"] for s in e["signals"]]
    assert any(s["kind"] == "domain" and s.get("value") == "acme-widgets.de" for s in signals), signals
    assert "jo.contact" not in json.dumps(case) and "jo.contact" not in json.dumps(opened.data)


def test_migration_0008_reduces_stored_contacts_to_their_domain(tmp_path):
    url = f"sqlite:///{tmp_path / 'conflict.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0007")
    engine = create_engine(url)
    old, without = deal(contact=OLD_CONTACT), deal()
    with engine.begin() as connection:
        for data in (old, without):
            document = {"deal_id": data["id"], "partner_id": data["partner_id"], "channel": data["channel"],
                        "customer": data["customer"], "contact": data["contact"], "products": data["products"],
                        "amount": data["amount"], "submitted_at": data["submitted_at"], "status": "submitted",
                        "case_id": None}
            connection.execute(registrations.insert().values(deal_id=data["id"], partner_id=data["partner_id"],
                                                             status="submitted", document=document))
    command.upgrade(config, "head")
    with engine.connect() as connection:
        stored = {row.deal_id: row.document for row in connection.execute(sa.select(registrations))}
    engine.dispose()
    assert stored[old["id"]]["contact"] == {"email_domain": "acme-widgets.de"}
    assert stored[without["id"]]["contact"] is None


def test_deal_erased_drops_the_contact_domain_from_the_registration_its_keys_and_the_index():
    db, detector, product = FakeDatabase(), OverlapDetector(), unique("listing")
    data = deal(customer={"name": "Ines Eigenfirma", "country": "DE"}, contact={"email_domain": "ines-eigen.de"},
                products=[product])
    judge(data, db, detector)
    assert any("ines-eigen" in key for key in db.keys), "filed under the contact's domain"
    uow = FakeConflictUnitOfWork(db)
    with uow:
        handlers.on_deal_erased(changed(data, "submitted", "deal.erased"), uow=uow, detector=detector)
        uow.commit()
    assert db.registrations[data["id"]].contact is None
    assert not [key for key, holders in db.keys.items() if "ines-eigen" in key and holders]
    assert any(data["id"] in holders for holders in db.keys.values()), "still filed under its other keys"
    # The index forgot the domain too: another customer name with the same contact domain no longer matches it.
    other = deal(channel="direct", customer={"name": "Quorvane Logistik", "country": "DE"},
                 contact={"email_domain": "ines-eigen.de"}, products=[product])
    assert judge(other, db, detector).events_of_type("registration.cleared")


def test_deal_erased_for_an_unknown_or_contactless_registration_changes_nothing():
    db, detector = FakeDatabase(), OverlapDetector()
    known = deal()
    judge(known, db, detector)
    for data in (deal(), known):
        uow = FakeConflictUnitOfWork(db)
        with uow:
            handlers.on_deal_erased(changed(data, "submitted", "deal.erased"), uow=uow, detector=detector)
            uow.commit()
        assert uow.published == []
