"""Verdicts for submitted registrations, run on the in-memory unit of work: one verdict each, one case per overlap."""
import dataclasses

import pytest

from services.conflict import handlers
from services.conflict.overlaps import OverlapDetector
from shared.events import CloudEvent
from tests.unit.conflict.builders import MONDAY_10AM, RULES, changed, deal, submitted, unique
from tests.unit.conflict.fakes import FakeConflictUnitOfWork, FakeDatabase


@pytest.fixture
def db():
    return FakeDatabase()


@pytest.fixture
def detector():
    return OverlapDetector()


def judge(data, *, db, detector, rules=RULES):
    uow = FakeConflictUnitOfWork(db)
    with uow:
        handlers.on_deal_submitted(submitted(data), uow=uow, detector=detector, rules=rules, now=MONDAY_10AM)
        uow.commit()
    return uow


def verdicts(uow):
    return [(event.type, event.subject) for _, event in uow.published]


def acme(**overrides):
    """One customer, written the way two different channels would paste it."""
    return {"name": "ACME Widgets GmbH", "domain": "https://www.acme-widgets.de/kontakt", "country": "DE", **overrides}


def test_a_registration_without_competition_is_cleared(db, detector):
    uow = judge(deal(), db=db, detector=detector)
    [(topic, event)] = uow.published
    assert topic == "conflicts.cases.v1" and event.type == "registration.cleared"
    assert event.data["reason"] and event.data["deal_id"] == event.subject


def test_two_channels_writing_one_customer_differently_open_one_case_with_evidence_queue_and_sla(db, detector):
    product = unique("listing")
    reseller = deal(channel="reseller", customer=acme(), products=[product])
    market = deal(channel="marketplace", customer={"name": "Acme Widgets", "domain": "acme-widgets.de",
                                                   "country": "de"}, products=[product, unique("listing")],
                  submitted_at="2030-01-07T09:30:00Z")
    judge(reseller, db=db, detector=detector)
    uow = judge(market, db=db, detector=detector)

    [event] = uow.events_of_type("case.opened")
    assert {m["deal_id"] for m in event.data["members"]} == {reseller["id"], market["id"]}
    assert event.data["registrations_total"] == 2 and event.data["queue"] == "marketplace-vs-reseller"
    case = db.cases[event.subject]  # the whole case stays in conflict's database; the event carries its summary
    assert {r["deal_id"] for r in case["registrations"]} == {reseller["id"], market["id"]}
    [evidence] = case["evidence"]
    assert evidence["band"] == "clear" and evidence["score"] >= 0.9
    assert evidence["shared_products"] == [product]
    assert {"kind": "domain", "relation": "same", "value": "acme-widgets.de"}.items() <= next(
        s for s in evidence["signals"] if s["kind"] == "domain").items()
    assert case["queue"] == "marketplace-vs-reseller" and case["priority"] == "normal"
    assert case["sla_due_at"] == "2030-01-09T10:00:00Z", "two business days of 09:00-17:00"
    assert {"rule": "marketplace-against-reseller", "effect": "queue=marketplace-vs-reseller"} in case["rules_applied"]
    assert case["rules_version"] == RULES.version
    assert case["recommendation"]["winner"] == reseller["id"], "earliest registration with evidence"


def test_a_third_overlapping_registration_joins_the_open_case(db, detector):
    product = unique("listing")
    first = deal(customer=acme(), products=[product])
    second = deal(channel="direct", customer=acme(), products=[product])
    judge(first, db=db, detector=detector)
    opened = judge(second, db=db, detector=detector).events_of_type("case.opened")[0].data
    third = deal(channel="marketplace", customer={"name": "Acme Widgets G.m.b.H.", "country": "DE",
                                                  "tax_id": "DE 123 456 789"}, products=[product])
    third["customer"]["domain"] = "acme-widgets.de"
    uow = judge(third, db=db, detector=detector)
    assert verdicts(uow) == [("case.updated", opened["id"])]
    assert len(db.cases) == 1
    assert [r["deal_id"] for r in db.cases[opened["id"]]["registrations"]] == [first["id"], second["id"], third["id"]]


def test_a_direct_registration_for_another_product_is_cleared(db, detector):
    judge(deal(customer=acme(), products=[unique("listing")]), db=db, detector=detector)
    uow = judge(deal(channel="direct", customer=acme(), products=[unique("listing")]), db=db, detector=detector)
    assert [event.type for _, event in uow.published] == ["registration.cleared"]


def test_a_partners_own_duplicate_is_merged_and_the_partner_reads_which_registration_it_joined(db, detector):
    product, partner = unique("listing"), unique("partner")
    original = deal(partner_id=partner, customer=acme(), products=[product])
    duplicate = deal(partner_id=partner, customer=acme(name="Acme Widgets"), products=[product])
    judge(original, db=db, detector=detector)
    uow = judge(duplicate, db=db, detector=detector)
    assert [event.type for _, event in uow.published] == ["case.opened", "case.resolved"]
    resolved = uow.events_of_type("case.resolved")[0].data
    assert resolved["resolution"]["outcomes"] == {duplicate["id"]: {
        "status": "rejected", "reason": resolved["resolution"]["outcomes"][duplicate["id"]]["reason"]}}
    assert original["id"] in resolved["resolution"]["outcomes"][duplicate["id"]]["reason"]
    assert [m["deal_id"] for m in resolved["members"]] == [duplicate["id"]]
    assert db.cases[resolved["id"]]["rules_applied"][0]["rule"] == "auto_resolve.own_duplicate"
    assert resolved["resolution"]["decided_by"] == "rules:auto_resolve.own_duplicate"


def test_own_duplicates_go_to_the_desk_when_the_rules_say_review(db, detector):
    rules = dataclasses.replace(RULES, own_duplicate="review")
    product, partner = unique("listing"), unique("partner")
    judge(deal(partner_id=partner, customer=acme(), products=[product]), db=db, detector=detector, rules=rules)
    uow = judge(deal(partner_id=partner, customer=acme(), products=[product]), db=db, detector=detector, rules=rules)
    [opened] = uow.events_of_type("case.opened")
    assert db.cases[opened.subject]["rules_applied"][0]["rule"] == "auto_resolve.own_duplicate"
    assert not uow.events_of_type("case.resolved")


def test_overlapping_only_withdrawn_registrations_is_cleared_and_says_which_rule_did_it(db, detector):
    product = unique("listing")
    earlier = deal(customer=acme(), products=[product])
    judge(earlier, db=db, detector=detector)
    uow = FakeConflictUnitOfWork(db)
    handlers.on_deal_changed(changed(earlier, "withdrawn", "deal.withdrawn"), uow=uow, detector=detector,
                             rules=RULES)

    later = judge(deal(channel="direct", customer=acme(), products=[product]), db=db, detector=detector)
    [(_, event)] = later.published
    assert event.type == "registration.cleared"
    assert event.data["evidence"]["rule"] == "auto_resolve.inactive_overlaps"
    assert event.data["evidence"]["overlaps"][0]["status"] == "withdrawn"
    assert earlier["id"] not in str(event.data), "the cleared partner does not learn the ended registration's id"


def test_a_redelivered_submission_gets_no_second_verdict(db, detector):
    data = deal()
    judge(data, db=db, detector=detector)
    assert judge(data, db=db, detector=detector).published == []


def test_registrations_from_another_consumer_process_are_found_through_the_database(db):
    """Two detectors (two processes) share one database; the second never saw the first's registration."""
    product = unique("listing")
    first_process, second_process = OverlapDetector(), OverlapDetector()
    judge(deal(customer=acme(), products=[product]), db=db, detector=first_process)
    uow = judge(deal(channel="direct", customer={"name": "ACME Widgetz", "country": "DE"}, products=[product]),
                db=db, detector=second_process)
    assert [event.type for _, event in uow.published] == ["case.opened"]


def test_the_verdict_locks_the_country_and_every_identifier_key(db, detector):
    judge(deal(customer=acme(tax_id="DE123456789", duns="12-345-6789")), db=db, detector=detector)
    assert db.locked == [sorted(["country:DE", "dom:acme-widgets.de", "tax:123456789", "duns:123456789"])]


def test_an_ended_registration_leaves_the_index(db, detector):
    data = deal(customer=acme())
    judge(data, db=db, detector=detector)
    assert data["id"] in detector.index
    handlers.on_deal_changed(changed(data, "expired", "deal.expired"), uow=FakeConflictUnitOfWork(db),
                             detector=detector, rules=RULES)
    assert data["id"] not in detector.index and db.registrations[data["id"]].status == "expired"


def test_the_index_is_rebuilt_from_the_active_registrations(db, detector):
    active, ended = deal(customer=acme()), deal(customer=acme())
    judge(active, db=db, detector=detector)
    judge(ended, db=db, detector=detector)
    handlers.on_deal_changed(changed(ended, "withdrawn", "deal.withdrawn"), uow=FakeConflictUnitOfWork(db),
                             detector=detector, rules=RULES)
    fresh = OverlapDetector()
    assert fresh.rebuild(lambda: FakeConflictUnitOfWork(db)) == 1
    assert active["id"] in fresh.index and ended["id"] not in fresh.index


def test_an_amended_registration_is_judged_again_and_gets_one_new_verdict(db, detector):
    """Deals sends an approved registration whose customer changed back as submitted, with recheck."""
    product = unique("listing")
    rival = deal(channel="direct", customer=acme(), products=[product])
    judge(rival, db=db, detector=detector)
    amended = deal(customer={"name": "Someone Else Ltd", "country": "GB"}, products=[product])
    judge(amended, db=db, detector=detector)

    recheck = CloudEvent(type="deal.updated", source="/dealgate/deals", subject=amended["id"],
                         data={**amended, "customer": acme(), "status": "submitted", "recheck": True})
    uow = FakeConflictUnitOfWork(db)
    with uow:
        handlers.on_deal_changed(recheck, uow=uow, detector=detector, rules=RULES)
        uow.commit()
    assert [event.type for _, event in uow.published] == ["case.opened"]
    assert db.registrations[amended["id"]].customer["name"] == "ACME Widgets GmbH"


def test_an_ambiguous_pair_is_cleared_with_its_weak_signals_named_and_opens_no_case(db, detector):
    """The same company name in two countries: the matcher cannot tell, so it says so instead of staying silent."""
    product = unique("listing")
    judge(deal(customer={"name": "Summit Engineering Ltd", "country": "GB"}, products=[product]), db=db,
          detector=detector)
    uow = judge(deal(channel="direct", customer={"name": "Summit Engineering Inc", "country": "US"},
                     products=[product]), db=db, detector=detector)
    [(_, verdict)] = uow.published
    assert verdict.type == "registration.cleared"
    [weak] = verdict.data["evidence"]["weak_signals"]
    assert weak["band"] == "review" and weak["shared_products"] == [product] and 0 < weak["score"] < 0.5
