"""Channel analytics computed from the conflict tables (SQLite), after verdicts and desk decisions made by the code."""
import datetime as dt

import pytest

from services.conflict import handlers
from services.conflict.analytics import CaseRow, Facts, RegistrationGroup, channel_analytics, summarise
from services.conflict.bootstrap import MIGRATIONS
from services.conflict.overlaps import OverlapDetector
from services.conflict.storage.analytics import SqlAnalyticsSource
from services.conflict.storage.uow import SqlConflictUnitOfWork
from shared.db import create_engine, upgrade_to_head
from tests.unit.conflict.builders import MONDAY_10AM, RULES, deal, submitted, unique

HOUR = dt.timedelta(hours=1)
WINDOW = {"start": dt.datetime(2030, 1, 1, tzinfo=dt.UTC), "end": dt.datetime(2030, 2, 1, tzinfo=dt.UTC)}
LATER = MONDAY_10AM + dt.timedelta(days=5)


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'conflict.db'}"
    upgrade_to_head(url, MIGRATIONS)
    engine = create_engine(url)
    yield engine
    engine.dispose()


def judge(engine, data, detector, now=MONDAY_10AM):
    with SqlConflictUnitOfWork(engine) as uow:
        handlers.on_deal_submitted(submitted(data), uow=uow, detector=detector, rules=RULES, now=now)
        uow.commit()


def decide(engine, case_id, decision, *, at, winner=None):
    with SqlConflictUnitOfWork(engine) as uow:
        case = uow.cases.get(case_id, for_update=True)
        case.resolve(decision=decision, winner=winner, note="decided in a test", by="desk:analytics", now=at)
        uow.cases.save(case)
        uow.commit()


def seed(engine, at=MONDAY_10AM) -> dict:
    """Five customers: four channel conflicts (two decided in time, one late, one left open) and one own duplicate.

    A (GB) reseller r-one vs direct, awarded to direct after 2 h;  B (DE) reseller r-two vs distributor d-one,
    rejected after 50 h (past its SLA);  C (US) r-one alone, cleared;  D (JP) marketplace m-one vs reseller
    r-three, still open;  E (GB) r-one twice, merged on arrival;  F (FR) r-two vs direct, dismissed after 3 h.
    """
    detector, submitted_deals, cases = OverlapDetector(), {}, {}
    plan = {"A": ("GB", [("r-one", "reseller"), ("direct", "direct")]),
            "B": ("DE", [("r-two", "reseller"), ("d-one", "distributor")]),
            "C": ("US", [("r-one", "reseller")]),
            "D": ("JP", [("m-one", "marketplace"), ("r-three", "reseller")]),
            "E": ("GB", [("r-one", "reseller"), ("r-one", "reseller")]),
            "F": ("FR", [("r-two", "reseller"), ("direct", "direct")])}
    for name, (country, members) in plan.items():
        customer = {"name": f"Customer {name} {unique('c')} Ltd", "domain": f"{unique(name.lower())}.com",
                    "country": country}
        product = unique("listing")
        deals = [deal(partner_id=partner, channel=channel, customer=customer, products=[product])
                 for partner, channel in members]
        for data in deals:
            judge(engine, data, detector, now=at)
        submitted_deals[name] = deals
        with SqlConflictUnitOfWork(engine) as uow:
            cases[name] = uow.registrations.get(deals[-1]["id"]).case_id
    decide(engine, cases["A"], "award", winner=submitted_deals["A"][1]["id"], at=at + 2 * HOUR)
    decide(engine, cases["F"], "dismiss", at=at + 3 * HOUR)
    decide(engine, cases["B"], "reject_all", at=at + 50 * HOUR)
    return {"deals": submitted_deals, "cases": cases, "detector": detector}


def test_the_analytics_answer_counts_registrations_conflicts_decisions_sla_and_partners(engine):
    seed(engine)
    answer = channel_analytics(SqlAnalyticsSource(engine), **WINDOW, now=LATER)

    assert answer["from"] == "2030-01-01T00:00:00Z" and answer["to"] == "2030-02-01T00:00:00Z"
    assert answer["registrations"] == {
        "total": 11, "by_channel": {"reseller": 7, "distributor": 1, "marketplace": 1, "direct": 2},
        "by_region": {"APAC": 2, "EMEA": 8, "NA": 1}}
    assert answer["conflicts"] == {"cases": 4, "by_channel_pair": [
        {"pair": ["reseller", "direct"], "registrations": 9, "cases": 2, "rate": 0.2222},
        {"pair": ["reseller", "distributor"], "registrations": 8, "cases": 1, "rate": 0.125},
        {"pair": ["reseller", "marketplace"], "registrations": 8, "cases": 1, "rate": 0.125}]}

    decisions = answer["decisions"]
    # The desk's own decisions: 2 h, 3 h and 50 h (the own duplicate merged on arrival is no desk decision).
    assert decisions["time_to_decision_s"] == {"p50": 10800.0, "p90": 146160.0, "max": 180000.0}
    assert decisions["by_decision"] == {"award": 1, "dismiss": 1, "merge": 1, "reject_all": 1}
    assert decisions["awards_by_channel"] == {"direct": 1}
    assert decisions["over_time"] == [
        {"date": "2030-01-07", "decisions": 2, "p50": 9000.0, "p90": 10440.0},
        {"date": "2030-01-09", "decisions": 1, "p50": 180000.0, "p90": 180000.0}]

    assert answer["sla"] == {"met": 2, "breached": 2, "pending": 0, "breach_rate": 0.5, "by_queue": [
        {"queue": "marketplace-vs-reseller", "met": 0, "breached": 1, "pending": 0, "breach_rate": 1.0},
        {"queue": "partner-vs-direct", "met": 2, "breached": 0, "pending": 0, "breach_rate": 0.0},
        {"queue": "partner-vs-partner", "met": 0, "breached": 1, "pending": 0, "breach_rate": 1.0}]}

    partners = {p["partner_id"]: p for p in answer["partners"]}
    assert [p["partner_id"] for p in answer["partners"]] == ["r-one", "direct", "r-two", "d-one", "m-one", "r-three"]
    assert partners["r-one"] == {"partner_id": "r-one", "channel": "reseller", "registrations": 4, "conflicts": 1,
                                 "conflict_rate": 0.25, "awards": 0, "award_rate": 0.0}
    assert partners["direct"]["award_rate"] == 1.0 and partners["direct"]["conflict_rate"] == 1.0
    assert partners["r-two"]["award_rate"] is None, "no award was decided among its cases: no rate, not 0"


def test_a_region_narrows_registrations_by_customer_country_and_cases_by_the_region_they_route_by(engine):
    seed(engine)
    answer = channel_analytics(SqlAnalyticsSource(engine), **WINDOW, region="EMEA", now=LATER)
    assert answer["region"] == "EMEA"
    assert answer["registrations"]["by_region"] == {"EMEA": 8}
    assert answer["conflicts"]["by_channel_pair"][0] == {"pair": ["reseller", "direct"], "registrations": 7,
                                                         "cases": 2, "rate": 0.2857}
    assert [q["queue"] for q in answer["sla"]["by_queue"]] == ["partner-vs-direct", "partner-vs-partner"]
    apac = channel_analytics(SqlAnalyticsSource(engine), **WINDOW, region="APAC", now=LATER)
    assert apac["registrations"]["total"] == 2 and apac["conflicts"]["cases"] == 1
    assert apac["sla"]["by_queue"] == [{"queue": "marketplace-vs-reseller", "met": 0, "breached": 1, "pending": 0,
                                        "breach_rate": 1.0}]


def test_the_window_leaves_out_what_was_recorded_or_opened_outside_it(engine):
    seed(engine)
    before = channel_analytics(SqlAnalyticsSource(engine), start=MONDAY_10AM - 10 * HOUR, end=MONDAY_10AM,
                               now=LATER)
    assert before["registrations"]["total"] == 0 and before["conflicts"] == {"cases": 0, "by_channel_pair": []}
    assert before["decisions"]["time_to_decision_s"] == {"p50": None, "p90": None, "max": None}
    assert before["sla"]["breach_rate"] is None and before["partners"] == []


def test_the_same_events_delivered_again_change_no_figure(engine):
    seeded = seed(engine)
    first = channel_analytics(SqlAnalyticsSource(engine), **WINDOW, now=LATER)
    for deals in seeded["deals"].values():  # a redelivery, or the topic replayed from the start
        for data in deals:
            judge(engine, data, seeded["detector"], now=MONDAY_10AM + 90 * HOUR)
    assert channel_analytics(SqlAnalyticsSource(engine), **WINDOW, now=LATER) == first


def test_an_open_case_within_its_sla_is_pending_and_a_merged_case_counts_only_where_it_went():
    opened = MONDAY_10AM
    member = lambda deal_id, partner, channel: {"deal_id": deal_id, "partner_id": partner, "channel": channel,  # noqa: E731
                                                "customer": {"country": "GB"}}
    live = CaseRow(id="c1", queue="general", status="open", opened_at=opened, sla_due_at=opened + 10 * HOUR,
                   registrations=[member("d1", "p1", "msp"), member("d2", "p2", "msp"), member("d3", "p3", "direct")],
                   resolution=None)
    merged = CaseRow(id="c2", queue="general", status="resolved", opened_at=opened, sla_due_at=opened + 10 * HOUR,
                     registrations=[member("d2", "p2", "msp"), member("d3", "p3", "direct")],
                     resolution={"decision": "merged", "decided_at": "2030-01-07T11:00:00Z", "merged_into": "c1"})
    facts = Facts(registrations=[RegistrationGroup("p1", "msp", "GB", 1, 1), RegistrationGroup("p2", "msp", "GB", 1, 1),
                                 RegistrationGroup("p3", "direct", "GB", 1, 1)], cases=[live, merged])
    answer = summarise(facts, **WINDOW, now=opened + HOUR)
    assert answer["conflicts"]["by_channel_pair"] == [
        {"pair": ["msp", "msp"], "registrations": 2, "cases": 1, "rate": 0.5},
        {"pair": ["msp", "direct"], "registrations": 3, "cases": 1, "rate": 0.3333}]
    assert answer["sla"]["by_queue"] == [{"queue": "general", "met": 0, "breached": 0, "pending": 1,
                                          "breach_rate": None}]
    assert answer["decisions"]["by_decision"] == {"merged": 1}
    assert answer["decisions"]["time_to_decision_s"]["max"] is None
