"""Case events stay bounded however many registrations a case holds (issue 12): the summary and the members a
change touched, in parts when those are many; the full case stays in conflict's database."""
import datetime as dt

from services.conflict.domain import events
from services.conflict.domain.model import Case, TrackedRegistration
from tests.unit.conflict.builders import MONDAY_10AM, deal

MEMBERS = 600


def _big_case(members: int = MEMBERS) -> Case:
    """A case of `members` registrations whose customers are as large as deals lets them be."""
    registrations = []
    for n in range(members):
        data = deal(customer={"name": f"Überlänge Holding {n} " + "Ä" * 170, "country": "DE",
                              "domain": f"{'x' * 60}-{n}.example.de", "tax_id": "DE" + "1" * 30},
                    products=[f"listing-{p:02d}-" + "p" * 50 for p in range(20)])
        registrations.append(TrackedRegistration.from_event(data))
    return Case.open(registrations=registrations, evidence=[{"deal_ids": [r.deal_id], "score": 0.9,
                                                             "signals": [{"kind": "domain"}] * 20}
                                                            for r in registrations],
                     queue="partner-vs-direct", priority="high", sla_due_at=MONDAY_10AM + dt.timedelta(days=2),
                     now=MONDAY_10AM)


def _sent(case: Case) -> list:
    return [event for _, event in events.new_events(case)]


def test_a_case_of_hundreds_of_members_opens_in_parts_each_far_below_the_brokers_limit():
    case = _big_case()
    sent = _sent(case)
    assert sent[0].type == "case.opened" and {e.type for e in sent[1:]} == {"case.updated"}, "opened once"
    assert len(sent) > 1 and [e.data["part"] for e in sent] == [{"index": i + 1, "of": len(sent)}
                                                                 for i in range(len(sent))]
    assert [m["deal_id"] for e in sent for m in e.data["members"]] == case.deal_ids
    for event in sent:
        assert len(event.to_json()) < 256 * 1024, "under 256 kB: far below Kafka's default 1 MiB"
        assert event.data["registrations_total"] == MEMBERS and event.data["counts"]["partners"] == MEMBERS
        assert "evidence" not in event.data and "history" not in event.data


def test_joining_a_large_case_sends_the_summary_and_the_one_new_member():
    case = _big_case()
    _sent(case)
    newcomer = TrackedRegistration.from_event(deal(channel="direct"))
    case.join(newcomer, [{"deal_ids": [newcomer.deal_id]}], now=MONDAY_10AM)
    [event] = _sent(case)
    assert event.type == "case.updated" and [m["deal_id"] for m in event.data["members"]] == [newcomer.deal_id]
    assert event.data["registrations_total"] == MEMBERS + 1 and len(event.to_json()) < 4096


def test_a_decision_over_hundreds_of_members_goes_out_in_parts_that_together_hold_every_outcome():
    case = _big_case()
    _sent(case)
    case.claim(by="desk:ana", now=MONDAY_10AM)
    [claimed] = _sent(case)
    assert claimed.data["members"] == [] and claimed.data["claimed_by"] == "desk:ana"
    winner = case.deal_ids[17]
    case.resolve(decision="award", winner=winner, note="n" * 2000, by="desk:ana", now=MONDAY_10AM)
    sent = _sent(case)
    assert len(sent) > 1 and {e.type for e in sent} == {"case.resolved"}
    outcomes = {}
    for event in sent:
        assert len(event.to_json()) < 256 * 1024
        resolution = event.data["resolution"]
        assert resolution["decision"] == "award" and resolution["winner"] == winner
        assert set(resolution["outcomes"]) == {m["deal_id"] for m in event.data["members"]}
        outcomes.update(resolution["outcomes"])
    assert set(outcomes) == set(case.deal_ids)
    assert [deal_id for deal_id, o in outcomes.items() if o["status"] == "approved"] == [winner]
