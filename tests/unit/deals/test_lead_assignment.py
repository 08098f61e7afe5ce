"""The lead score and a lead's passage between partners, as plain domain objects."""
import datetime as dt

import pytest

from services.deals.domain.assignment import AssignmentPolicy, Candidate, named_account_owner, parse_weights, rank
from services.deals.domain.leads import Lead, LeadError
from services.deals.domain.partners import PartnerProfile
from services.deals.lead_settings import lead_values
from shared.config import ConfigError

MONDAY_9AM = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)


def candidate(partner_id, *, tier="gold", countries=("DE",), capacity=5, **figures):
    profile = PartnerProfile.create(partner_id, tier=tier, countries=list(countries), channels=["reseller"],
                                    lead_capacity=capacity, by="admin")
    return Candidate(profile=profile, **figures)


def test_the_score_weighs_every_factor_and_says_why():
    policy = AssignmentPolicy()
    ranked = rank([candidate("silver", tier="silver"), candidate("owner", territory="dach"),
                   candidate("busy", open_leads=4), candidate("france", countries=("FR",)),
                   candidate("full", capacity=2, open_leads=2)], country="DE", tried=set(), policy=policy)
    # a free silver partner (12.5 + 20) outscores a gold one with 4 of 5 slots taken (18.75 + 4); FR and full
    # are not eligible
    assert [s.candidate.partner_id for s in ranked] == ["owner", "silver", "busy"]
    owner = {r["factor"]: r for r in ranked[0].reasons}
    assert owner["territory"]["points"] == 30.0 and owner["territory"]["basis"] == "owns territory dach"
    assert owner["tier"]["points"] == 18.75 and owner["capacity"]["points"] == 20.0
    assert owner["win_rate"]["value"] == 0.5 and owner["accept_speed"]["basis"] == "no accepted lead yet"
    assert ranked[0].score == pytest.approx(sum(r["points"] for r in ranked[0].reasons))


def test_win_rate_and_speed_count_and_equals_take_turns():
    policy = AssignmentPolicy()
    fast = candidate("fast", mean_hours_to_accept=2.0, won=8, lost=2)
    slow = candidate("slow", mean_hours_to_accept=72.0, won=2, lost=8)
    assert [s.candidate.partner_id for s in rank([slow, fast], country="DE", tried=set(), policy=policy)] == [
        "fast", "slow"]
    earlier = candidate("a-earlier", last_assigned_at=MONDAY_9AM)
    never = candidate("z-never")
    ranked = rank([earlier, never], country="DE", tried=set(), policy=policy)
    assert ranked[0].candidate.partner_id == "z-never" and ranked[0].reasons[-1]["factor"] == "round_robin"
    assert rank([earlier, never], country="DE", tried={"z-never"}, policy=policy)[0].candidate.partner_id == \
        "a-earlier"


def test_weights_are_settings_checked_at_start_up():
    assert parse_weights("tier=1, capacity=2.5", known=("tier", "capacity"), name="X") == {"tier": 1.0,
                                                                                         "capacity": 2.5}
    with pytest.raises(ConfigError, match="DEALS_LEAD_WEIGHTS"):
        lead_values({"DEALS_LEAD_WEIGHTS": "charm=3"})
    with pytest.raises(ConfigError, match="DEALS_LEAD_SLA_CLOCK"):
        lead_values({"DEALS_LEAD_SLA_CLOCK": "lunar"})
    only_tier = AssignmentPolicy.from_settings(weights="tier=1", tier_points="gold=1", sla_hours=48,
                                               clock="business", max_declines=3)
    assert only_tier.weights["capacity"] == 0.0 and only_tier.tier_points["platinum"] == 0.0
    # 48 business hours from Monday 09:00 UTC end the next Monday at 17:00
    assert only_tier.due_at(MONDAY_9AM) == dt.datetime(2030, 1, 14, 17, 0, tzinfo=dt.UTC)
    wall = AssignmentPolicy.from_settings(weights="", tier_points="", sla_hours=48, clock="wall", max_declines=3)
    assert wall.due_at(MONDAY_9AM) == MONDAY_9AM + dt.timedelta(hours=48)


def test_a_named_account_is_found_by_domain_or_tax_id():
    territories = [{"name": "key", "owner": "p1", "named_accounts": [
        {"kind": "domain", "key": "acme.de", "given": "acme.de"},
        {"kind": "tax_id", "key": "123456789", "given": "DE123456789"}]}]
    assert named_account_owner({"name": "x", "domain": "https://shop.acme.de/", "country": "DE"},
                               territories)["owner"] == "p1"
    assert named_account_owner({"name": "x", "tax_id": "DE 123-456-789", "country": "DE"}, territories)
    assert named_account_owner({"name": "x", "domain": "other.de", "country": "DE"}, territories) is None


def test_a_lead_moves_between_partners_and_records_every_attempt():
    lead = Lead.create(customer={"name": "x", "country": "DE"}, products=["p"], notes=None, created_by="sales")
    lead.assign("a", basis="score", due_at=MONDAY_9AM, score=50.0, now=MONDAY_9AM - dt.timedelta(hours=1))
    with pytest.raises(LeadError):
        lead.accept("b", registration_id="r")
    with pytest.raises(LeadError):
        lead.expire(now=MONDAY_9AM - dt.timedelta(minutes=1))
    lead.expire(now=MONDAY_9AM + dt.timedelta(minutes=1))
    lead.assign("b", basis="score", due_at=MONDAY_9AM + dt.timedelta(days=2))
    lead.decline("b", reason="not our field")
    lead.assign("c", basis="score", due_at=MONDAY_9AM + dt.timedelta(days=4))
    lead.accept("c", registration_id="r-1")
    assert [(a.partner_id, a.outcome) for a in lead.attempts] == [("a", "expired"), ("b", "declined"),
                                                                  ("c", "accepted")]
    assert [event for event, _ in lead.events] == ["lead.created", "lead.assigned", "lead.expired",
                                                   "lead.reassigned", "lead.declined", "lead.reassigned",
                                                   "lead.accepted"]
    assert lead.tried == {"a", "b"} and lead.declines == 1
    view = lead.partner_view()
    assert [a["partner_id"] for a in view["attempts"]] == ["c"] and "created_by" not in view
    assert Lead.from_dict(lead.to_dict()).to_dict() == lead.to_dict()
