"""Rules of engagement: every rule in the default file, the defaults, recommendations and file validation."""
import datetime as dt

import pytest

from services.conflict.domain.rules import CaseFacts, RulesError, RulesOfEngagement
from services.conflict.settings import DEFAULT_RULES_FILE
from tests.unit.conflict.builders import MONDAY_10AM, RULES, rules_from, unique


def registration(channel, *, partner_id=None, country="GB", amount="25000", currency="USD",
                 submitted_at="2030-01-07T09:00:00Z", domain=None, tax_id=None):
    customer = {"name": "Northwind Traders", "country": country}
    if domain:
        customer["domain"] = domain
    if tax_id:
        customer["tax_id"] = tax_id
    return {"deal_id": unique("deal"), "partner_id": partner_id or ("direct" if channel == "direct" else unique("p")),
            "channel": channel, "customer": customer, "products": ["p1"],
            "amount": {"amount": amount, "currency": currency}, "submitted_at": submitted_at}


def route(*registrations, rules=RULES, domains=()):
    return rules.route(CaseFacts(tuple(registrations), frozenset(domains)), opened_at=MONDAY_10AM)


def test_the_default_file_loads_with_its_documented_defaults():
    assert RULES.version >= 1 and RULES.own_duplicate == "merge" and RULES.inactive_overlaps == "clear"
    assert RULES.defaults["sla_business_hours"] == 16 and RULES.calendar.timezone == "UTC"


@pytest.mark.parametrize("channels, queue, rule", [
    (("reseller", "direct"), "partner-vs-direct", "partner-against-direct"),
    (("msp", "direct"), "partner-vs-direct", "partner-against-direct"),
    (("marketplace", "reseller"), "marketplace-vs-reseller", "marketplace-against-reseller"),
    (("marketplace", "direct"), "partner-vs-direct", "marketplace-against-direct"),
    (("distributor", "reseller"), "partner-vs-partner", "partner-against-partner"),
])
def test_the_channel_pair_chooses_the_queue(channels, queue, rule):
    routing = route(*(registration(c) for c in channels))
    assert routing.queue == queue
    assert {"rule": rule, "effect": f"queue={queue}"} in routing.applied


def test_the_same_partner_twice_is_no_channel_pair():
    routing = route(registration("reseller", partner_id="p-1"), registration("reseller", partner_id="p-1"))
    assert routing.queue == "general" and {"rule": "defaults", "effect": "queue=general"} in routing.applied


def test_large_deals_go_to_the_strategic_queue_with_high_priority_and_a_shorter_sla():
    routing = route(registration("reseller", amount="300000"), registration("direct"))
    assert (routing.queue, routing.priority) == ("strategic", "high")
    assert routing.sla_due_at == dt.datetime(2030, 1, 8, 10, 0, tzinfo=dt.UTC)  # 8 business hours
    assert [a["rule"] for a in routing.applied][:3] == ["strategic-deal-size"] * 3


def test_deal_size_converts_currencies_and_ignores_unknown_ones():
    euros = registration("reseller", amount="240000", currency="EUR")
    assert route(euros, registration("direct")).queue == "strategic"
    unknown = registration("reseller", amount="9999999", currency="XYZ")
    assert route(unknown, registration("direct")).queue != "strategic"


def test_apac_cases_get_one_business_day():
    routing = route(registration("reseller", country="SG"), registration("marketplace", country="SG"))
    assert routing.sla_due_at == dt.datetime(2030, 1, 8, 10, 0, tzinfo=dt.UTC)
    assert {"rule": "apac-desk-hours", "effect": "sla_business_hours=8"} in routing.applied


def test_without_a_matching_rule_the_defaults_apply_and_are_recorded():
    routing = route(registration("reseller", partner_id="same"), registration("msp", partner_id="same"))
    assert (routing.queue, routing.priority) == ("general", "normal")
    assert routing.sla_due_at == dt.datetime(2030, 1, 9, 10, 0, tzinfo=dt.UTC)
    assert {a["rule"] for a in routing.applied} == {"defaults"}


def test_earliest_registration_with_evidence_wins():
    nameless = registration("reseller", submitted_at="2030-01-01T00:00:00Z")
    with_domain = registration("marketplace", submitted_at="2030-01-02T00:00:00Z", domain="northwind.example")
    later = registration("direct", submitted_at="2030-01-03T00:00:00Z", tax_id="GB123")
    recommendation = route(nameless, with_domain, later).recommendation
    assert recommendation["winner"] == with_domain["deal_id"]
    assert recommendation["strategy"] == "earliest_with_evidence" and recommendation["rule"] == "defaults"


def test_without_any_evidence_the_earliest_wins():
    first, second = registration("reseller", submitted_at="2030-01-01T00:00:00Z"), registration("direct")
    assert route(second, first).recommendation["winner"] == first["deal_id"]


def test_named_direct_accounts_stay_direct(tmp_path):
    text = DEFAULT_RULES_FILE.read_text().replace(
        "named_direct_accounts: []", "named_direct_accounts: [northwind.example]")
    rules = rules_from(tmp_path, text)
    partner = registration("reseller", submitted_at="2030-01-01T00:00:00Z", domain="northwind.example")
    direct = registration("direct", submitted_at="2030-01-05T00:00:00Z")
    routing = route(partner, direct, rules=rules, domains={"northwind.example"})
    assert routing.queue == "direct-accounts"
    assert routing.recommendation["winner"] == direct["deal_id"]
    assert routing.recommendation["rule"] == "named-direct-accounts-stay-direct"
    assert "named_direct_accounts: []" in DEFAULT_RULES_FILE.read_text()  # the default file names no accounts
    other = route(partner, direct, rules=rules, domains={"elsewhere.example"})
    assert other.queue == "partner-vs-direct" and other.recommendation["winner"] == partner["deal_id"]


def test_the_first_rule_that_sets_a_setting_decides_it(tmp_path):
    rules = rules_from(tmp_path, """
version: 7
rules:
  - {id: first, when: {region: [EMEA]}, then: {queue: emea}}
  - {id: second, when: {country: [gb]}, then: {queue: uk, priority: urgent}}
""")
    routing = route(registration("reseller"), registration("direct"), rules=rules)
    assert (routing.queue, routing.priority, routing.rules_version) == ("emea", "urgent", 7)
    assert {"rule": "second", "effect": "priority=urgent"} in routing.applied


@pytest.mark.parametrize("text, complaint", [
    ("rules: []", "version"),
    ("version: 0", "version"),
    ("version: 1\nrules: [{id: a, when: {colour: red}, then: {queue: q}}]", "colour"),
    ("version: 1\nrules: [{id: a, then: {queue: ''}}]", "queue"),
    ("version: 1\nrules: [{id: a, then: {priority: sky-high}}]", "priority"),
    ("version: 1\nrules: [{id: a, when: {channel_pair: [reseller]}, then: {queue: q}}]", "channel_pair"),
    ("version: 1\nrules: [{id: a, when: {}, then: {}}]", "must set"),
    ("version: 1\nrules: [{id: a, then: {queue: q}}, {id: a, then: {queue: r}}]", "unique"),
    ("version: 1\nauto_resolve: {own_duplicate: shrug}", "own_duplicate"),
    ("version: 1\nbusiness_hours: {timezone: Mars/Olympus}", "business_hours"),
    ("version: 1\ndefaults: {sla_business_hours: -1}", "sla_business_hours"),
    ("[1, 2]", "mapping"),
])
def test_an_invalid_rules_file_is_refused_with_the_key_that_is_wrong(tmp_path, text, complaint):
    with pytest.raises(RulesError, match=complaint):
        rules_from(tmp_path, text)


def test_an_unreadable_rules_file_is_refused(tmp_path):
    with pytest.raises(RulesError):
        rules_from(tmp_path, "version: [unclosed")


@pytest.mark.parametrize("country, region", [("US", "NA"), ("br", "LATAM"), ("JP", "APAC"), ("DE", "EMEA"),
                                             ("ZA", "EMEA"), ("PR", "LATAM"), ("KZ", "APAC"), ("", None)])
def test_cases_route_by_the_sales_region_of_the_customer_country(country, region):
    assert CaseFacts(registrations=(registration("reseller", country=country),)).region == region


def test_a_country_without_a_region_meets_no_region_condition():
    rules = RulesOfEngagement.from_dict({"version": 1, "rules": [
        {"id": "apac", "when": {"region": ["APAC"]}, "then": {"queue": "apac"}},
        {"id": "emea", "when": {"region": ["EMEA"]}, "then": {"queue": "emea"}}]})
    kosovo = (registration("reseller", country="XK"), registration("direct", country="XK"))  # no ISO 3166-1 code
    assert CaseFacts(kosovo).region is None
    assert route(*kosovo, rules=rules).queue == "general"


def test_rules_are_plain_data():
    assert isinstance(RulesOfEngagement.from_dict({"version": 1}), RulesOfEngagement)
