"""Issue 18's events across services (in-process over the in-memory bus): deals.partners.v1 carries what conflict's
partner directory reads, conflicts.territories.v1 what deals' territory read model reads, deals.leads.v1 the lead
events with no notes; each consumer applies them, and a lead routed by a territory proves the round trip."""
from __future__ import annotations

import json

import pytest
from marshmallow import INCLUDE, Schema, fields

from shared.auth import TokenService
from shared.events import CloudEvent, CloudEventSchema
from shared.topics import CONFLICT_TERRITORIES, DEALS_LEADS, DEALS_PARTNERS, dlq_name
from tests.contract.pipeline import Pipeline


class Loose(Schema):
    class Meta:
        unknown = INCLUDE


class PartnerContract(Loose):  # read by conflict: territory owners, and where each partner may sell
    partner_id = fields.String(required=True)
    countries = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True)


class NamedAccountContract(Loose):
    kind = fields.String(required=True)
    key = fields.String(required=True)


class TerritoryContract(Loose):  # read by deals: named-account owners and territory countries for leads
    name = fields.String(required=True)
    owner = fields.String(required=True)
    version = fields.Integer(required=True)
    countries = fields.List(fields.String(), required=True)
    named_accounts = fields.List(fields.Nested(NamedAccountContract), required=True)


class LeadContract(Loose):
    id = fields.String(required=True)
    status = fields.String(required=True)
    customer = fields.Dict(required=True)
    products = fields.List(fields.String(), required=True)
    assignee = fields.String(required=True, allow_none=True)
    attempt = fields.Dict(required=True, allow_none=True)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    pipeline = Pipeline(tmp_path_factory.mktemp("setup"))
    tokens = TokenService(pipeline.services["deals"].settings.jwt_secret)

    def bearer(role, **claims):
        return {"Authorization": "Bearer " + tokens.issue(role, **claims)}

    catalog, deals, conflict = pipeline.apps["catalog"], pipeline.apps["deals"], pipeline.apps["conflict"]
    admin = bearer("admin")
    listing = catalog.post("/v1/listings", headers=admin, json={
        "title": "Setup Suite", "summary": "x", "vendor": "V", "category": "contracts", "tags": [],
        "offers": [{"name": "Std", "channels": ["reseller", "direct"], "regions": ["EMEA", "APAC"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "EUR"}}}]}).json
    catalog.post(f"/v1/listings/{listing['id']}/publish", headers=admin)
    owner = deals.put("/v1/partners/setup-owner", headers=admin, json={
        "tier": "gold", "countries": ["DE"], "channels": ["reseller"], "lead_capacity": 3})
    assert owner.status_code == 201, owner.json
    before = conflict.put("/v1/territories/early", headers=admin, json={"owner": "setup-owner", "countries": []})
    assert before.status_code == 422 and "owner" in before.json["errors"], "conflict has not read the profile yet"
    pipeline.settle()
    territory = conflict.put("/v1/territories/setup-key", headers=admin, json={
        "owner": "setup-owner", "countries": ["DE"], "named_accounts": ["https://www.setup-key.jp/"]})
    assert territory.status_code == 201, territory.json
    pipeline.settle()
    lead = deals.post("/v1/leads", headers=bearer("sales"), json={
        "customer": {"name": "Setup KK", "domain": "setup-key.jp", "country": "JP"}, "products": [listing["id"]],
        "notes": "Ask for Ms Tanaka"})
    assert lead.status_code == 201, lead.json
    accepted = deals.post(f"/v1/leads/{lead.json['id']}/accept",
                          headers=bearer("partner", partner_id="setup-owner"), json={})
    assert accepted.status_code == 200, accepted.json
    pipeline.settle()
    return pipeline, lead.json, accepted.json


def _events(pipeline, topic):
    return [CloudEvent.from_json(m.value) for m in pipeline.bus.messages(topic)]


@pytest.mark.parametrize("topic,contract,types", [
    (DEALS_PARTNERS, PartnerContract, {"partner.updated"}),
    (CONFLICT_TERRITORIES, TerritoryContract, {"territory.updated"}),
    (DEALS_LEADS, LeadContract, {"lead.created", "lead.assigned", "lead.accepted"}),
])
def test_the_setup_topics_carry_what_their_readers_read(traffic, topic, contract, types):
    pipeline, _, _ = traffic
    messages = pipeline.bus.messages(topic)
    assert messages, f"nothing travelled on {topic}"
    for message in messages:
        document = json.loads(message.value)
        assert CloudEventSchema().validate(document) == {} and message.key == document["subject"]
        assert contract().validate(document["data"]) == {}, document["type"]
        text = message.value.decode() if isinstance(message.value, bytes) else message.value
        assert "Tanaka" not in text, "a lead's notes stay in deals"
    assert types <= {e.type for e in _events(pipeline, topic)}
    assert pipeline.bus.messages(dlq_name(topic)) == []


def test_a_territory_published_by_conflict_routes_a_lead_in_deals(traffic):
    pipeline, lead, accepted = traffic
    assert lead["assignee"] == "setup-owner" and lead["attempts"][0]["basis"] == "named_account"
    registration = accepted["registration"]
    assert registration["source"] == "vendor_lead" and registration["status"] == "approved"
    # conflict judged the vendor-sourced registration like any other: its owner registering its named account
    cleared = [e for e in _events(pipeline, "conflicts.cases.v1") if e.subject == registration["id"]]
    assert [e.type for e in cleared] == ["registration.cleared"]
