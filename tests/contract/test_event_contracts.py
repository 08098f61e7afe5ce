"""Every event the services emit keeps the CloudEvents envelope and carries what its consumers read.

The schemas below are the contracts: a producer may add fields, never drop these.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from marshmallow import INCLUDE, Schema, fields

from shared.auth import TokenService
from shared.events import CloudEvent, CloudEventSchema
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES, DEALS_REGISTRATIONS, dlq_name
from tests.contract.pipeline import Pipeline


class Loose(Schema):
    class Meta:
        unknown = INCLUDE


class OfferContract(Loose):
    id = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    regions = fields.List(fields.String(), required=True)


class ListingContract(Loose):  # read by deals' catalog read model
    id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    offers = fields.List(fields.Nested(OfferContract), required=True)


class ContactContract(Schema):  # all of the contact that leaves deals: nothing personal, so nothing else (RAISE)
    email_domain = fields.String(required=True, allow_none=True)


class RegistrationContract(Loose):  # read by conflict
    id = fields.String(required=True)
    contact = fields.Nested(ContactContract, required=True, allow_none=True)
    status = fields.String(required=True)
    partner_id = fields.String(required=True)
    channel = fields.String(required=True)
    customer = fields.Dict(required=True)
    products = fields.List(fields.String(), required=True)
    amount = fields.Dict(required=True)
    submitted_at = fields.String(required=True)


class ClearedContract(Loose):  # read by deals
    deal_id = fields.String(required=True)
    reason = fields.String(required=True)


class CaseMemberContract(Loose):
    deal_id = fields.String(required=True)
    partner_id = fields.String(required=True)
    channel = fields.String(required=True)
    customer = fields.Dict(required=True)
    products = fields.List(fields.String(), required=True)
    amount = fields.Dict(required=True)
    submitted_at = fields.String(required=True)


class CaseCountsContract(Loose):
    registrations = fields.Integer(required=True)
    active = fields.Integer(required=True)
    partners = fields.Integer(required=True)


class CasePartContract(Loose):
    index = fields.Integer(required=True)
    of = fields.Integer(required=True)


class ResolutionContract(Loose):
    decision = fields.String(required=True)
    outcomes = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)  # for this event's members


class CaseContract(Loose):  # read by deals: the case's summary and the members this change touched (bounded size)
    id = fields.String(required=True)
    queue = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True)
    sla_due_at = fields.String(required=True)
    version = fields.Integer(required=True)
    registrations_total = fields.Integer(required=True)
    counts = fields.Nested(CaseCountsContract, required=True)
    members = fields.List(fields.Nested(CaseMemberContract), required=True)
    part = fields.Nested(CasePartContract, required=True)
    resolution = fields.Nested(ResolutionContract, required=True, allow_none=True)


CONTRACTS = {
    "listing.published": ListingContract, "listing.updated": ListingContract, "listing.retired": ListingContract,
    "deal.submitted": RegistrationContract, "deal.updated": RegistrationContract,
    "deal.approved": RegistrationContract, "deal.rejected": RegistrationContract,
    "deal.withdrawn": RegistrationContract, "deal.closed": RegistrationContract, "deal.expired": RegistrationContract,
    "deal.erased": RegistrationContract,
    "registration.cleared": ClearedContract, "case.opened": CaseContract, "case.updated": CaseContract,
    "case.resolved": CaseContract,
}


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    """Drive the main story through the three APIs and collect every event that travelled."""
    pipeline = Pipeline(tmp_path_factory.mktemp("contract"))
    tokens = TokenService(pipeline.services["deals"].settings.jwt_secret)
    admin = {"Authorization": "Bearer " + tokens.issue("admin")}
    catalog, deals, conflict = pipeline.apps["catalog"], pipeline.apps["deals"], pipeline.apps["conflict"]

    listing = catalog.post("/v1/listings", headers=admin, json={
        "title": "Contract Suite", "summary": "x", "vendor": "V", "category": "contracts", "tags": ["t"],
        "offers": [{"name": "Std", "channels": ["reseller", "marketplace", "direct"], "regions": ["EMEA", "NA"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "EUR"}}}]}).json
    etag = catalog.post(f"/v1/listings/{listing['id']}/publish", headers=admin).headers.get("ETag", "")
    catalog.patch(f"/v1/listings/{listing['id']}", headers={**admin, "If-Match": etag}, json={"summary": "y"})
    pipeline.settle()

    reseller = {"Authorization": "Bearer " + tokens.issue("partner", partner_id="contract-reseller")}
    market = {"Authorization": "Bearer " + tokens.issue("marketplace", partner_id="contract-market")}
    close = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {"customer": {"name": "Contoso GmbH", "domain": "contoso.de", "country": "DE"},
            "products": [listing["id"]], "amount": {"amount": "100.00", "currency": "EUR"}, "expected_close": close}
    first = deals.post("/v1/deals", headers=reseller, json=body)
    assert first.status_code == 201, first.json
    pipeline.settle()
    second = deals.post("/v1/deals", headers=market, json={**body, "customer": {
        "name": "CONTOSO G.m.b.H.", "domain": "https://www.contoso.de/", "country": "DE"}})
    assert second.status_code == 201, second.json
    lone = deals.post("/v1/deals", headers=reseller, json={**body, "customer": {
        "name": "Fabrikam Ltd", "domain": "fabrikam.co.uk", "country": "GB"}})
    pipeline.settle()
    desk = {"Authorization": "Bearer " + tokens.issue("desk")}
    case_id = deals.get(f"/v1/deals/{second.json['id']}", headers=market).json["case_ref"]
    assert case_id, "the two registrations for one customer should share a case"
    conflict.post(f"/v1/cases/{case_id}/claim", headers=desk)
    resolved = conflict.post(f"/v1/cases/{case_id}/resolve", headers=desk,
                             json={"decision": "award", "winner": second.json["id"], "note": "Marketplace first"})
    assert resolved.status_code == 200, resolved.json
    deals.post(f"/v1/deals/{lone.json['id']}/withdraw", headers=reseller)
    pipeline.settle()
    return pipeline


def _events(pipeline, topic):
    return [CloudEvent.from_json(m.value) for m in pipeline.bus.messages(topic)]


def test_every_event_is_a_valid_cloudevent_keyed_by_its_subject(traffic):
    for topic in (CATALOG_LISTINGS, DEALS_REGISTRATIONS, CONFLICT_CASES):
        messages = traffic.bus.messages(topic)
        assert messages, f"nothing travelled on {topic}"
        for message in messages:
            document = json.loads(message.value)
            assert CloudEventSchema().validate(document) == {}
            assert message.key == document["subject"]
            # every event descends from a request, whose correlation id it carries in both places
            assert document.get("correlationid") and message.header("correlationid") == document["correlationid"]


@pytest.mark.parametrize("topic", [CATALOG_LISTINGS, DEALS_REGISTRATIONS, CONFLICT_CASES])
def test_every_event_carries_what_its_consumers_read(traffic, topic):
    seen = set()
    for event in _events(traffic, topic):
        assert event.type in CONTRACTS, f"{event.type} has no contract"
        errors = CONTRACTS[event.type]().validate(event.data)
        assert errors == {}, f"{event.type}: {errors}"
        seen.add(event.type)
    expected = {CATALOG_LISTINGS: {"listing.published", "listing.updated"},
                DEALS_REGISTRATIONS: {"deal.submitted", "deal.approved", "deal.withdrawn"},
                CONFLICT_CASES: {"registration.cleared", "case.opened", "case.resolved"}}[topic]
    assert expected <= seen, f"missing {expected - seen}"


def test_the_resolution_tells_deals_each_outcome_and_the_story_ends_as_decided(traffic):
    resolved = [e for e in _events(traffic, CONFLICT_CASES) if e.type == "case.resolved"][-1]
    outcomes = resolved.data["resolution"]["outcomes"]
    assert sorted(o["status"] for o in outcomes.values()) == ["approved", "rejected"]
    for outcome in outcomes.values():
        assert "contract-" not in outcome["reason"], "a reason never names a competing partner"
    statuses = {e.subject: e.data["status"] for e in _events(traffic, DEALS_REGISTRATIONS)}
    assert sorted(statuses[deal_id] for deal_id in outcomes) == ["approved", "rejected"]


def test_case_events_carry_the_summary_and_only_the_members_they_touched(traffic):
    cases = [e for e in _events(traffic, CONFLICT_CASES) if e.type.startswith("case.")]
    opened = next(e for e in cases if e.type == "case.opened")
    assert len(opened.data["members"]) == opened.data["registrations_total"] == 2
    claimed = next(e for e in cases if e.type == "case.updated" and e.data["claimed_by"])
    assert claimed.data["members"] == [] and claimed.data["registrations_total"] == 2, "a claim touches no member"
    for event in cases:
        assert "registrations" not in event.data and "evidence" not in event.data and "history" not in event.data


def test_nothing_was_dead_lettered(traffic):
    for topic in (CATALOG_LISTINGS, DEALS_REGISTRATIONS, CONFLICT_CASES):
        assert traffic.bus.messages(dlq_name(topic)) == []
