"""Cases stay live: members' statuses, endings in the history, moot cases, and cases merged by a bridge."""
import datetime as dt

import pytest

from services.conflict import handlers
from services.conflict.overlaps import OverlapDetector
from tests.unit.conflict.builders import MONDAY_10AM, RULES, changed, deal, submitted, unique
from tests.unit.conflict.fakes import FakeConflictUnitOfWork, FakeDatabase


@pytest.fixture
def db():
    return FakeDatabase()


@pytest.fixture
def detector():
    return OverlapDetector()


def apply(event, *, db, detector, now=MONDAY_10AM):
    uow = FakeConflictUnitOfWork(db)
    with uow:
        if event.type == "deal.submitted":
            handlers.on_deal_submitted(event, uow=uow, detector=detector, rules=RULES, now=now)
        else:
            handlers.on_deal_changed(event, uow=uow, detector=detector, rules=RULES)
        uow.commit()
    return uow


def customer(name: str, domain: str) -> dict:
    return {"name": name, "domain": domain, "country": "DE"}


def case_of(db, deal_id):
    return handlers.get_case(db.registrations[deal_id].case_id, uow=FakeConflictUnitOfWork(db))


def test_members_carry_their_current_status(db, detector):
    product, acme = unique("listing"), customer("Acme Widgets GmbH", "acme-widgets.de")
    first, second = deal(customer=acme, products=[product]), deal(channel="direct", customer=acme, products=[product])
    apply(submitted(first), db=db, detector=detector)
    apply(submitted(second), db=db, detector=detector)
    apply(changed(second, "in_conflict", "deal.updated"), db=db, detector=detector)
    statuses = {r["deal_id"]: r["status"] for r in case_of(db, first["id"]).registrations}
    assert statuses == {first["id"]: "submitted", second["id"]: "in_conflict"}


def test_a_withdrawal_leaving_one_partner_makes_the_case_moot_and_the_rest_carries_on(db, detector):
    product, acme = unique("listing"), customer("Acme Widgets GmbH", "acme-widgets.de")
    first, second = deal(customer=acme, products=[product]), deal(channel="direct", customer=acme, products=[product])
    apply(submitted(first), db=db, detector=detector)
    opened = apply(submitted(second), db=db, detector=detector)
    [case_id] = [event.subject for event in opened.events_of_type("case.opened")]

    uow = apply(changed(second, "withdrawn", "deal.withdrawn"), db=db, detector=detector)
    assert [event.type for event in (e for _, e in uow.published)] == ["case.updated", "case.resolved"]
    resolved = uow.events_of_type("case.resolved")[0].data
    assert resolved["id"] == case_id and resolved["status"] == "resolved"
    assert resolved["resolution"]["decision"] == "moot"
    assert resolved["resolution"]["decided_by"] == "rules:auto_resolve.moot"
    assert "withdrawn" in resolved["resolution"]["note"]
    [(left, outcome)] = resolved["resolution"]["outcomes"].items()
    assert left == first["id"] and outcome["status"] == "approved" and "approved" in outcome["reason"]
    assert [m["deal_id"] for m in resolved["members"]] == [first["id"]], "the members it decides on"
    [ended] = [h for h in db.cases[case_id]["history"] if h["action"] == "registration_ended"]
    assert ended["deal_id"] == second["id"] and ended["status"] == "withdrawn"
    overview = {q["name"]: q for q in handlers.queue_overview(uow=FakeConflictUnitOfWork(db), rules=RULES)}
    assert sum(q["open"] + q["claimed"] for q in overview.values()) == 0


def test_an_ending_with_two_partners_left_only_records_it(db, detector):
    product, acme = unique("listing"), customer("Acme Widgets GmbH", "acme-widgets.de")
    members = [deal(customer=acme, products=[product]), deal(channel="direct", customer=acme, products=[product]),
               deal(channel="msp", customer=acme, products=[product])]
    for member in members:
        apply(submitted(member), db=db, detector=detector)
    uow = apply(changed(members[2], "expired", "deal.expired"), db=db, detector=detector)
    [update] = [event for _, event in uow.published]
    assert update.type == "case.updated" and update.data["status"] == "open"
    assert [m["deal_id"] for m in update.data["members"]] == [members[2]["id"]]
    assert update.data["counts"]["active"] == 2 and update.data["registrations_total"] == 3
    assert db.cases[update.subject]["history"][-1]["action"] == "registration_ended"


def test_statuses_after_a_decision_are_kept_current_without_new_events(db, detector):
    product, acme = unique("listing"), customer("Acme Widgets GmbH", "acme-widgets.de")
    first, second = deal(customer=acme, products=[product]), deal(channel="direct", customer=acme, products=[product])
    apply(submitted(first), db=db, detector=detector)
    apply(submitted(second), db=db, detector=detector)
    case_id = db.registrations[first["id"]].case_id
    handlers.resolve_case(case_id, decision="award", winner=first["id"], note="first", by="desk:ana",
                          uow=FakeConflictUnitOfWork(db))
    uow = apply(changed(second, "rejected", "deal.rejected"), db=db, detector=detector)
    assert uow.published == []
    case = case_of(db, first["id"])
    assert case.resolution["decision"] == "award"
    assert {r["deal_id"]: r["status"] for r in case.registrations}[second["id"]] == "rejected"


def test_a_registration_bridging_two_open_cases_merges_them_into_the_older(db, detector):
    product = unique("listing")
    # Two customers' cases, each between two partners ...
    north = [deal(customer={"name": "Borealis Analytics GmbH", "country": "DE", "tax_id": "DE111222333"},
                  products=[product], submitted_at="2030-01-07T08:00:00Z"),
             deal(channel="direct", customer={"name": "Borealis Analytics", "country": "DE",
                                              "tax_id": "DE111222333"}, products=[product])]
    south = [deal(customer={"name": "Nordlicht Datenwerk GmbH", "country": "DE", "domain": "nordlicht-daten.de"},
                  products=[product], channel="msp"),
             deal(channel="distributor", customer={"name": "Nordlicht Datenwerk AG", "country": "DE",
                                                   "domain": "nordlicht-daten.de"}, products=[product])]
    for minutes, member in enumerate(north + south):
        apply(submitted(member), db=db, detector=detector, now=MONDAY_10AM + dt.timedelta(minutes=minutes))
    older_id, younger_id = db.registrations[north[0]["id"]].case_id, db.registrations[south[0]["id"]].case_id
    assert older_id and younger_id and older_id != younger_id
    # ... and a registration carrying both the tax id and the domain bridges them.
    bridge = deal(channel="marketplace", customer={"name": "Borealis Analytics GmbH", "country": "DE",
                                                    "tax_id": "DE111222333", "domain": "nordlicht-daten.de"},
                  products=[product])
    uow = apply(submitted(bridge), db=db, detector=detector, now=MONDAY_10AM + dt.timedelta(hours=1))

    merged = {event.subject: event for event in uow.events_of_type("case.resolved")}
    survivor_id, gone_id = older_id, younger_id  # north's case opened first
    assert merged[gone_id].data["resolution"]["decision"] == "merged"
    assert merged[gone_id].data["resolution"]["merged_into"] == survivor_id
    survivor = handlers.get_case(survivor_id, uow=FakeConflictUnitOfWork(db))
    assert set(survivor.deal_ids) == {m["id"] for m in north + south} | {bridge["id"]}
    assert any(h["action"] == "merged" and h["case_id"] == gone_id for h in survivor.history)
    assert {db.registrations[m["id"]].case_id for m in north + south + [bridge]} == {survivor_id}


def test_a_registration_approved_before_its_case_opens_shows_approved_in_it(db, detector):
    product, acme = unique("listing"), customer("Acme Widgets GmbH", "acme-widgets.de")
    first, second = deal(customer=acme, products=[product]), deal(channel="direct", customer=acme, products=[product])
    apply(submitted(first), db=db, detector=detector)
    apply(changed(first, "approved", "deal.approved"), db=db, detector=detector)
    apply(submitted(second), db=db, detector=detector)
    statuses = {r["deal_id"]: r["status"] for r in case_of(db, second["id"]).registrations}
    assert statuses == {first["id"]: "approved", second["id"]: "submitted"}
