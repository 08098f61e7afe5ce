"""The desk's claim and resolve on the in-memory unit of work, and what the partners read afterwards."""
import dataclasses
import datetime as dt

import pytest

from services.conflict import handlers
from services.conflict.overlaps import OverlapDetector
from tests.unit.conflict.builders import MONDAY_10AM, RULES, deal, submitted, unique
from tests.unit.conflict.fakes import FakeConflictUnitOfWork, FakeDatabase


@pytest.fixture
def db():
    return FakeDatabase()


def open_case(db, *, partners=("reseller-a", "market-b")) -> tuple[str, list[dict]]:
    detector, product = OverlapDetector(), unique("listing")
    customer = {"name": f"Zylophon {unique('x')} AG", "country": "CH", "domain": f"{unique('zy')}.ch"}
    deals = [deal(partner_id=partners[0], customer=customer, products=[product]),
             deal(partner_id=partners[1], channel="marketplace", customer=customer, products=[product])]
    for data in deals:
        uow = FakeConflictUnitOfWork(db)
        handlers.on_deal_submitted(submitted(data), uow=uow, detector=detector, rules=RULES, now=MONDAY_10AM)
    [case_id] = db.cases
    return case_id, deals


def test_claim_then_award_records_who_decided_and_why_and_tells_each_deal_its_outcome(db):
    case_id, (winner, loser) = open_case(db)
    uow = FakeConflictUnitOfWork(db)
    claimed = handlers.claim_case(case_id, by="desk:ana", uow=uow)
    assert claimed.status == "claimed" and claimed.claimed_by == "desk:ana"
    resolved = handlers.resolve_case(case_id, decision="award", winner=winner["id"], note="reseller-a was first",
                                     by="desk:ana", uow=uow)
    assert resolved.status == "resolved"
    assert resolved.resolution["decided_by"] == "desk:ana" and resolved.resolution["note"] == "reseller-a was first"
    outcomes = resolved.resolution["outcomes"]
    assert outcomes[winner["id"]]["status"] == "approved" and outcomes[loser["id"]]["status"] == "rejected"
    assert [e.type for e in (event for _, event in uow.published)] == ["case.updated", "case.resolved"]
    assert [h["action"] for h in resolved.history] == ["opened", "claimed", "resolved"]


def test_a_partners_reason_never_names_the_competitor_even_when_the_desk_note_does(db):
    case_id, (winner, loser) = open_case(db, partners=("reseller-a", "globex-market"))
    resolved = handlers.resolve_case(case_id, decision="award", winner=winner["id"],
                                     note="globex-market loses to reseller-a", by="desk:ana",
                                     uow=FakeConflictUnitOfWork(db))
    for outcome in resolved.resolution["outcomes"].values():
        assert "reseller-a" not in outcome["reason"] and "globex" not in outcome["reason"]


@pytest.mark.parametrize("decision, statuses", [("reject_all", {"rejected"}), ("dismiss", {"approved"})])
def test_reject_all_and_dismiss_decide_every_registration_alike(db, decision, statuses):
    case_id, _ = open_case(db)
    resolved = handlers.resolve_case(case_id, decision=decision, winner=None, note="checked", by="desk:bo",
                                     uow=FakeConflictUnitOfWork(db))
    assert {o["status"] for o in resolved.resolution["outcomes"].values()} == statuses


def test_invalid_decisions_are_refused_and_change_nothing(db):
    case_id, _ = open_case(db)
    with pytest.raises(handlers.DomainError):
        handlers.resolve_case(case_id, decision="award", winner="not-in-case", note="x", by="d",
                              uow=FakeConflictUnitOfWork(db))
    with pytest.raises(handlers.DomainError):
        handlers.resolve_case(case_id, decision="dismiss", winner="anything", note="x", by="d",
                              uow=FakeConflictUnitOfWork(db))
    handlers.claim_case(case_id, by="desk:ana", uow=FakeConflictUnitOfWork(db))
    with pytest.raises(handlers.DomainError, match="already claimed"):
        handlers.claim_case(case_id, by="desk:bo", uow=FakeConflictUnitOfWork(db))
    handlers.resolve_case(case_id, decision="dismiss", winner=None, note="fine", by="desk:ana",
                          uow=FakeConflictUnitOfWork(db))
    with pytest.raises(handlers.DomainError, match="already resolved"):
        handlers.resolve_case(case_id, decision="reject_all", winner=None, note="x", by="d",
                              uow=FakeConflictUnitOfWork(db))
    with pytest.raises(handlers.NotFound):
        handlers.claim_case(unique("missing"), by="d", uow=FakeConflictUnitOfWork(db))


def test_claiming_twice_by_the_same_person_publishes_nothing_more(db):
    case_id, _ = open_case(db)
    handlers.claim_case(case_id, by="desk:ana", uow=FakeConflictUnitOfWork(db))
    again = FakeConflictUnitOfWork(db)
    handlers.claim_case(case_id, by="desk:ana", uow=again)
    assert again.published == []


def test_queues_count_open_claimed_ageing_and_breaches_and_list_empty_queues_too(db):
    case_id, _ = open_case(db)
    later = MONDAY_10AM + dt.timedelta(days=3)  # past the two-business-day SLA
    overview = {q["name"]: q for q in handlers.queue_overview(uow=FakeConflictUnitOfWork(db), rules=RULES, now=later)}
    queue = overview["marketplace-vs-reseller"]
    assert queue == {"name": "marketplace-vs-reseller", "open": 1, "claimed": 0,
                     "oldest_open_age_s": 3 * 86400.0, "sla_breached": 1}
    assert overview["general"] == {"name": "general", "open": 0, "claimed": 0, "oldest_open_age_s": None,
                                   "sla_breached": 0}
    handlers.claim_case(case_id, by="desk:ana", uow=FakeConflictUnitOfWork(db))
    claimed = {q["name"]: q for q in handlers.queue_overview(uow=FakeConflictUnitOfWork(db), rules=RULES, now=later)}
    assert claimed["marketplace-vs-reseller"]["claimed"] == 1 and claimed["marketplace-vs-reseller"]["open"] == 0


def test_a_change_of_rules_never_rewrites_a_decided_case(db):
    case_id, _ = open_case(db)
    handlers.resolve_case(case_id, decision="dismiss", winner=None, note="fine", by="desk:ana",
                          uow=FakeConflictUnitOfWork(db))
    before = dict(db.cases[case_id])
    newer = dataclasses.replace(RULES, version=RULES.version + 1, defaults={**RULES.defaults, "queue": "elsewhere"})
    handlers.queue_overview(uow=FakeConflictUnitOfWork(db), rules=newer)
    assert handlers.get_case(case_id, uow=FakeConflictUnitOfWork(db)).to_dict()["rules_version"] == RULES.version
    assert db.cases[case_id] == before
