"""Territories on the in-memory unit of work: defining them (versions, who, the bad inputs), and what a named
account or a partner outside its countries does to a registration's verdict."""
import dataclasses

import pytest

from services.conflict import handlers, territory_handlers
from services.conflict.domain.rules import RulesError
from services.conflict.domain.territories import TerritoryInvalid, TerritoryPolicy
from services.conflict.overlaps import OverlapDetector
from shared.auth import Principal
from shared.events import CloudEvent
from shared.topics import CONFLICT_TERRITORIES
from tests.unit.conflict.builders import MONDAY_10AM, RULES, deal, rules_from, submitted, unique
from tests.unit.conflict.fakes import FakeConflictUnitOfWork, FakeDatabase

ADMIN = Principal(sub="admin:alice", role="admin")


@pytest.fixture
def db():
    return FakeDatabase()


def partner_profile(db, partner_id, countries=("DE", "AT")):
    uow = FakeConflictUnitOfWork(db)
    with uow:
        territory_handlers.on_partner_changed(CloudEvent(type="partner.updated", source="/d", subject=partner_id, data={
            "partner_id": partner_id, "tier": "gold", "countries": list(countries), "channels": ["reseller"],
            "lead_capacity": 5, "version": 1}), uow=uow)
        uow.commit()


def put(db, name, **body):
    uow = FakeConflictUnitOfWork(db)
    territory, created = territory_handlers.put_territory(name, body, principal=ADMIN, uow=uow)
    return territory, created, uow


def judge(db, data, rules=RULES):
    uow = FakeConflictUnitOfWork(db)
    with uow:
        handlers.on_deal_submitted(submitted(data), uow=uow, detector=OverlapDetector(), rules=rules,
                                   now=MONDAY_10AM)
        uow.commit()
    return uow


def test_a_territory_is_versioned_with_who_changed_it_and_published_on_its_compacted_topic(db):
    partner_profile(db, "p-owner")
    territory, created, uow = put(db, "dach-key", owner="p-owner", countries=["de", "AT"],
                                  named_accounts=["https://www.Acme-Widgets.de/kontakt", "DE 123 456 789"])
    assert created and territory.version == 1 and territory.countries == ["AT", "DE"]
    assert territory.named_accounts == [
        {"kind": "domain", "key": "acme-widgets.de", "given": "https://www.Acme-Widgets.de/kontakt"},
        {"kind": "tax_id", "key": "123456789", "given": "DE 123 456 789"}]
    assert [(topic, event.type, event.subject) for topic, event in uow.published] == [
        (CONFLICT_TERRITORIES, "territory.updated", "dach-key")]
    changed, created, _ = put(db, "dach-key", owner="direct", countries=["DE"])
    assert not created and changed.version == 2 and changed.owner == "direct"
    same, _, unchanged = put(db, "dach-key", owner="direct", countries=["DE"])
    assert same.version == 2 and unchanged.published == []
    _, versions = territory_handlers.get_territory("dach-key", uow=FakeConflictUnitOfWork(db))
    assert [(v["version"], v["changed_by"], v["territory"]["owner"]) for v in versions] == [
        (2, "admin:alice", "direct"), (1, "admin:alice", "p-owner")]


def test_bad_territories_are_refused_naming_the_conflict(db):
    partner_profile(db, "p-one")
    put(db, "north", owner="p-one", countries=["SE"], named_accounts=["nordljus.se"])
    with pytest.raises(TerritoryInvalid) as refused:
        put(db, "south", owner="p-ghost", countries=["SE", "XX"],
            named_accounts=["https://www.nordljus.se/", "gmail.com", "not an account", "acme.de", "ACME.DE"])
    errors = refused.value.errors
    assert "p-ghost" in errors["owner"][0]
    assert "XX" in errors["countries"][0]
    assert "nordljus.se is already a named account of territory 'north' (owner p-one)" in errors["named_accounts.0"][0]
    assert "free-mail" in errors["named_accounts.1"][0]
    assert "neither a web domain" in errors["named_accounts.2"][0]
    assert "listed twice" in errors["named_accounts.4"][0]
    assert "named_accounts.3" not in errors
    with pytest.raises(TerritoryInvalid) as bad_name:
        put(db, "Not A Name!", owner="direct", countries=[])
    assert "name" in bad_name.value.errors


def test_a_named_account_registered_by_another_opens_a_case_in_the_owners_queue_without_an_owner_registration(db):
    partner_profile(db, "p-owner")
    put(db, "dach-key", owner="p-owner", countries=["DE"], named_accounts=["acme-widgets.de"])
    data = deal(partner_id=unique("intruder"), customer={"name": "ACME Widgets", "domain": "acme-widgets.de",
                                                        "country": "DE"})
    uow = judge(db, data)
    opened = uow.events_of_type("case.opened")
    assert len(opened) == 1 and not uow.events_of_type("registration.cleared")
    case = next(iter(db.cases.values()))
    assert case["queue"] == "named-accounts-p-owner"
    assert case["rules_applied"][0]["rule"] == "territories.named_account"
    assert "owner p-owner" in case["rules_applied"][0]["effect"]
    assert [r["deal_id"] for r in case["registrations"]] == [data["id"]]
    # the owner itself registering its named account is cleared as usual
    own = judge(db, deal(partner_id="p-owner", customer={"name": "Acme", "domain": "www.acme-widgets.de",
                                                       "country": "DE"}, products=[unique("other-product")]))
    assert own.events_of_type("registration.cleared")


def test_a_named_account_rejected_by_rule_gives_a_reason_naming_no_one(db, tmp_path):
    rules = dataclasses.replace(RULES, territories=TerritoryPolicy(named_account="reject"))
    partner_profile(db, "p-owner")
    put(db, "key", owner="p-owner", countries=["DE"], named_accounts=["DE123456789"])
    data = deal(partner_id=unique("intruder"), customer={"name": "Kunde", "tax_id": "123456789", "country": "DE"})
    uow = judge(db, data, rules)
    resolved = uow.events_of_type("case.resolved")
    assert len(resolved) == 1
    resolution = resolved[0].data["resolution"]
    assert resolution["decided_by"] == "rules:territories.named_account"
    reason = resolution["outcomes"][data["id"]]["reason"]
    assert resolution["outcomes"][data["id"]]["status"] == "rejected"
    assert "p-owner" not in reason and "key" not in reason.split() and "named account" in reason


def test_a_named_account_with_the_owners_registration_recommends_the_owner(db):
    partner_profile(db, "p-owner")
    put(db, "key", owner="p-owner", countries=["DE"], named_accounts=["acme-widgets.de"])
    product = unique("listing")
    customer = {"name": "ACME Widgets GmbH", "domain": "acme-widgets.de", "country": "DE"}
    owner_deal = deal(partner_id="p-owner", customer=customer, products=[product])
    judge(db, owner_deal)
    judge(db, deal(partner_id=unique("late"), customer=customer, products=[product]))
    case = next(iter(db.cases.values()))
    assert case["queue"] == "named-accounts-p-owner"
    assert case["recommendation"]["winner"] == owner_deal["id"]
    assert case["recommendation"]["strategy"] == "named_account_owner"


def test_a_partner_outside_its_countries_is_flagged_or_refused_as_the_rules_say(db, tmp_path):
    partner_profile(db, "p-dach", countries=["DE", "AT"])
    flagged = judge(db, deal(partner_id="p-dach", customer={"name": "Société Générique SA", "country": "FR"}))
    cleared = flagged.events_of_type("registration.cleared")[0]
    assert cleared.data["evidence"]["territories"][0]["rule"] == "territories.out_of_territory"
    assert "FR" in cleared.data["evidence"]["territories"][0]["effect"]
    inside = judge(db, deal(partner_id="p-dach", customer={"name": "Kunde GmbH", "country": "AT"}))
    assert "territories" not in inside.events_of_type("registration.cleared")[0].data["evidence"]
    strict = rules_from(tmp_path, "version: 2\nterritories: {out_of_territory: reject}\n")
    refused = judge(db, deal(partner_id="p-dach", customer={"name": "Other SA", "country": "FR"}), strict)
    outcome = next(iter(refused.events_of_type("case.resolved")[0].data["resolution"]["outcomes"].values()))
    assert outcome["status"] == "rejected" and "customers in FR" in outcome["reason"]
    review = rules_from(tmp_path, "version: 3\nterritories: {out_of_territory: review}\n")
    judge(db, deal(partner_id="p-dach", customer={"name": "Third SA", "country": "FR"}), review)
    assert any(c["queue"] == "out-of-territory" for c in db.cases.values())
    # a partner without a profile, and direct sales, are never out of territory
    unknown = judge(db, deal(partner_id=unique("nobody"), customer={"name": "Fourth SA", "country": "FR"}))
    assert "territories" not in unknown.events_of_type("registration.cleared")[0].data["evidence"]


def test_the_rules_file_refuses_an_unknown_territory_action(tmp_path):
    with pytest.raises(RulesError, match="territories.named_account"):
        rules_from(tmp_path, "version: 1\nterritories: {named_account: ignore}\n")
    with pytest.raises(RulesError, match="territories.colour"):
        rules_from(tmp_path, "version: 1\nterritories: {colour: blue}\n")


def test_the_lead_board_keeps_each_leads_latest_state_and_its_figures(db):
    partner_profile(db, "p-gold")

    def lead_event(version, status, attempts, event_type="lead.assigned"):
        return CloudEvent(type=event_type, source="/dealgate/deals", subject="lead-1", data={
            "id": "lead-1", "status": status, "version": version, "created_at": "2030-01-07T09:00:00Z",
            "customer": {"name": "Kunde", "country": "DE"}, "products": ["x"],
            "assignee": attempts[-1]["partner_id"] if status == "assigned" else None, "attempts": attempts})

    assigned = {"partner_id": "p-gold", "basis": "score", "score": 61.0, "assigned_at": "2030-01-07T09:00:00Z",
                "reasons": [{"factor": "tier", "points": 18.75}], "outcome": None, "ended_at": None}
    accepted = {**assigned, "outcome": "accepted", "ended_at": "2030-01-07T12:00:00Z"}
    for event in (lead_event(3, "accepted", [accepted], "lead.accepted"), lead_event(2, "assigned", [assigned])):
        uow = FakeConflictUnitOfWork(db)
        with uow:
            handlers.consumer_handlers(detector=OverlapDetector(), rules=RULES)[event.type](event, uow=uow)
            uow.commit()
    board = territory_handlers.lead_board(uow=FakeConflictUnitOfWork(db))
    assert [lead["status"] for lead in board] == ["accepted"]  # the older event, arriving late, changed nothing
    assert board[0]["attempts"][0]["tier"] == "gold" and board[0]["attempts"][0]["channel"] == "reseller"
    figures = territory_handlers.lead_figures(board)
    assert figures["by_tier"] == {"gold": {"assigned": 1, "accepted": 1, "declined": 0, "expired": 0}}
    assert figures["acceptance_rate"] == 1.0 and figures["time_to_accept_hours"]["median"] == 3.0
