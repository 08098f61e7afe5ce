"""Partner profiles and vendor leads through the deals API on SQLite and PostgreSQL: who gets a lead and why,
accepting it into a protected registration, declining, the SLA job, the events, and the bad inputs."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.deals import lead_handlers
from services.deals.app import create_app
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.lead_settings import lead_policy
from services.deals.settings import DealsSettings
from shared.auth import TokenService
from shared.db import upgrade_to_head
from shared.events import CloudEvent
from shared.topics import DEALS_LEADS, DEALS_PARTNERS
from tests.integration.deals.builders import published_listing


class Stand:
    def __init__(self, database_url: str):
        upgrade_to_head(database_url, MIGRATIONS)
        self.settings = DealsSettings.from_env(env={"DEALS_LEAD_SLA_CLOCK": "wall"}, database_url=database_url,
                                               relay_doorbell=None, kafka_bootstrap_servers="127.0.0.1:1")
        self.deals = bootstrap(self.settings)
        listing = published_listing()
        self.product = listing["id"]
        with self.deals.uow_factory() as uow:
            uow.catalog.upsert(listing)
            uow.commit()
        self.client = create_app({"SETTINGS": self.settings, "TESTING": True}, deals=self.deals).test_client()
        self.tokens = TokenService(self.settings.jwt_secret)

    def bearer(self, role: str, **claims) -> dict:
        return {"Authorization": "Bearer " + self.tokens.issue(role, **claims)}

    def partner(self, partner_id: str, channel: str = "reseller") -> dict:
        return self.bearer("partner", partner_id=partner_id, channel=channel)

    def profile(self, partner_id: str, *, tier="silver", countries=("DE",), capacity=5, expect=(200, 201)) -> dict:
        response = self.client.put(f"/v1/partners/{partner_id}", headers=self.bearer("admin"), json={
            "tier": tier, "countries": list(countries), "channels": ["reseller"], "lead_capacity": capacity})
        assert response.status_code in expect, response.get_json()
        return response.get_json()

    def lead(self, customer: dict | None = None, **extra) -> dict:
        response = self.client.post("/v1/leads", headers=self.bearer("sales"), json={
            "customer": customer or new_customer(), "products": [self.product], **extra})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def territory(self, document: dict) -> None:
        with self.deals.uow_factory() as uow:
            lead_handlers.on_territory_changed(CloudEvent(type="territory.updated", source="/t", subject="t",
                                                          data=document), uow=uow)
            uow.commit()

    def events(self, topic: str) -> list[dict]:
        import json

        import sqlalchemy as sa

        from services.deals.storage.tables import outbox
        with self.deals.engine.connect() as connection:
            rows = connection.execute(sa.select(outbox.c.payload).where(outbox.c.topic == topic)
                                      .order_by(outbox.c.id)).scalars().all()
        return [json.loads(row) for row in rows]


def new_customer(country: str = "DE") -> dict:
    return {"name": f"Kunde {uuid.uuid4().hex[:8]} GmbH", "domain": f"k{uuid.uuid4().hex[:10]}.de", "country": country}


@pytest.fixture
def stand(database_url):
    stand = Stand(database_url)
    yield stand
    stand.deals.engine.dispose()


def test_a_partner_profile_is_set_by_admin_read_by_desk_and_itself_and_published(stand):
    created = stand.profile("p-gold", tier="gold", countries=("de", "AT"))
    assert created["countries"] == ["AT", "DE"] and created["version"] == 1
    assert stand.client.get("/v1/partners/p-gold", headers=stand.partner("p-gold")).status_code == 200
    assert stand.client.get("/v1/partners/p-gold", headers=stand.bearer("desk")).get_json()["tier"] == "gold"
    assert stand.client.get("/v1/partners/p-gold", headers=stand.partner("p-other")).status_code == 404
    assert stand.client.put("/v1/partners/p-gold", headers=stand.partner("p-gold"), json={}).status_code == 403
    again = stand.profile("p-gold", tier="platinum", countries=("DE",))
    assert again["version"] == 2
    published = stand.events(DEALS_PARTNERS)
    assert [e["type"] for e in published] == ["partner.updated", "partner.updated"]
    assert published[-1]["subject"] == "p-gold" and published[-1]["data"]["tier"] == "platinum"


def test_bad_profiles_are_422_naming_the_field(stand):
    admin = stand.bearer("admin")
    bad = stand.client.put("/v1/partners/p-x", headers=admin, json={"tier": "gold", "countries": ["XX", "DE"],
                                                                    "channels": ["reseller"], "lead_capacity": 3})
    assert bad.status_code == 422 and "XX" in str(bad.get_json()["errors"]["countries"])
    tier = stand.client.put("/v1/partners/p-x", headers=admin, json={"tier": "diamond", "countries": ["DE"],
                                                                     "channels": ["reseller"], "lead_capacity": 3})
    assert tier.status_code == 422 and "tier" in tier.get_json()["errors"]
    direct = stand.client.put("/v1/partners/direct", headers=admin, json={
        "tier": "gold", "countries": ["DE"], "channels": ["reseller"], "lead_capacity": 3})
    assert direct.status_code == 422


def test_a_lead_goes_to_the_best_score_with_its_reasons_and_round_robin_among_equals(stand):
    stand.profile("p-silver", tier="silver")
    stand.profile("p-gold-a", tier="gold")
    stand.profile("p-gold-b", tier="gold")
    stand.profile("p-france", tier="platinum", countries=("FR",))
    first, second, third = stand.lead(), stand.lead(), stand.lead()
    assert first["assignee"] in ("p-gold-a", "p-gold-b")
    attempt = first["attempts"][0]
    assert attempt["basis"] == "score" and {r["factor"] for r in attempt["reasons"]} >= {
        "territory", "tier", "capacity", "win_rate", "accept_speed", "round_robin"}
    # equal scores take turns; a gold partner with one lead open still outscores silver (capacity 4/5 vs 5/5)
    assert {first["assignee"], second["assignee"]} == {"p-gold-a", "p-gold-b"}
    assert third["assignee"] in ("p-gold-a", "p-gold-b")
    assert "p-france" not in {first["assignee"], second["assignee"], third["assignee"]}  # does not sell in DE
    mine = stand.client.get("/v1/leads", headers=stand.partner(first["assignee"])).get_json()["items"]
    assert first["id"] in [lead["id"] for lead in mine]
    assert all("created_by" not in lead for lead in mine)
    assert stand.client.get(f"/v1/leads/{first['id']}", headers=stand.partner("p-silver")).status_code == 404
    assert [e["type"] for e in stand.events(DEALS_LEADS)][:2] == ["lead.created", "lead.assigned"]


def test_a_held_customer_goes_to_its_holder_and_a_named_account_to_its_owner(stand):
    stand.profile("p-holder")
    stand.profile("p-owner")
    stand.profile("p-other", tier="platinum")
    customer = new_customer()
    deal = stand.client.post("/v1/deals", headers=stand.partner("p-holder"), json={
        "customer": customer, "products": [stand.product], "amount": {"amount": "100.00", "currency": "EUR"},
        "expected_close": (dt.date.today() + dt.timedelta(days=30)).isoformat()})
    assert deal.status_code == 201, deal.get_json()
    waiting = stand.lead(customer)  # a registration still being checked holds nothing yet
    assert waiting["attempts"][0]["basis"] == "score"
    with stand.deals.uow_factory() as uow:  # conflict cleared it
        registration = uow.registrations.get(deal.get_json()["id"], for_update=True)
        registration.approve(protection=dt.timedelta(days=90), reason="No competing registration.")
        uow.registrations.save(registration)
        uow.commit()
    held = stand.lead(customer)
    assert held["assignee"] == "p-holder" and held["attempts"][0]["basis"] == "holder"
    named = new_customer()
    stand.territory({"name": "dach-key", "owner": "p-owner", "version": 1, "countries": ["DE"],
                     "named_accounts": [{"kind": "domain", "key": named["domain"], "given": named["domain"]}]})
    lead = stand.lead({**named, "domain": f"https://www.{named['domain']}/"})
    assert lead["assignee"] == "p-owner" and lead["attempts"][0]["basis"] == "named_account"
    # the territory's country gives its owner the territory factor in scored assignments too
    scored = stand.lead()
    reasons = {r["factor"]: r for r in scored["attempts"][0]["reasons"]}
    assert reasons["territory"]["value"] == (1.0 if scored["assignee"] == "p-owner" else 0.0)


def test_accepting_a_lead_makes_an_approved_protected_vendor_sourced_registration(stand):
    stand.profile("p-accept")
    lead = stand.lead(notes="Call the CIO")
    assert lead["assignee"] == "p-accept"
    accepted = stand.client.post(f"/v1/leads/{lead['id']}/accept", headers=stand.partner("p-accept"),
                                 json={"amount": {"amount": "5000.00", "currency": "EUR"}})
    assert accepted.status_code == 200, accepted.get_json()
    registration = accepted.get_json()["registration"]
    assert registration["status"] == "approved" and registration["protection_until"]
    assert registration["source"] == "vendor_lead" and registration["lead_id"] == lead["id"]
    assert registration["partner_id"] == "p-accept"
    read = stand.client.get(f"/v1/deals/{registration['id']}", headers=stand.partner("p-accept")).get_json()
    assert read["status"] == "approved"
    assert accepted.get_json()["lead"]["status"] == "accepted"
    again = stand.client.post(f"/v1/leads/{lead['id']}/accept", headers=stand.partner("p-accept"), json={})
    assert again.status_code == 409
    deal_events = [e for e in stand.events("deals.registrations.v1") if e["subject"] == registration["id"]]
    assert [e["type"] for e in deal_events] == ["deal.submitted", "deal.approved"]
    assert deal_events[0]["data"]["source"] == "vendor_lead"
    assert "lead.accepted" in [e["type"] for e in stand.events(DEALS_LEADS)]


def test_declines_move_the_lead_on_and_after_the_limit_it_goes_to_the_desk(stand):
    for n in range(4):
        stand.profile(f"p-dec-{n}")
    lead = stand.lead()
    seen = []
    for _ in range(3):
        holder = lead["assignee"]
        seen.append(holder)
        declined = stand.client.post(f"/v1/leads/{lead['id']}/decline", headers=stand.partner(holder),
                                     json={"reason": "No capacity this quarter"})
        assert declined.status_code == 200, declined.get_json()
        lead = stand.client.get(f"/v1/leads/{lead['id']}", headers=stand.bearer("desk")).get_json()
    assert len(set(seen)) == 3  # never back to a partner that declined
    assert lead["status"] == "unassigned" and lead["assignee"] is None and "Declined 3 times" in lead["desk_reason"]
    queue = stand.client.get("/v1/leads?status=unassigned", headers=stand.bearer("desk")).get_json()["items"]
    assert lead["id"] in [item["id"] for item in queue]
    unknown = stand.client.post(f"/v1/leads/{lead['id']}/assign", headers=stand.bearer("desk"),
                                json={"partner_id": "p-nobody"})
    assert unknown.status_code == 422
    by_hand = stand.client.post(f"/v1/leads/{lead['id']}/assign", headers=stand.bearer("desk"),
                                json={"partner_id": seen[0]})
    assert by_hand.status_code == 200 and by_hand.get_json()["assignee"] == seen[0]
    assert by_hand.get_json()["attempts"][-1]["basis"] == "desk"
    again = stand.client.post(f"/v1/leads/{lead['id']}/assign", headers=stand.bearer("admin"),
                              json={"partner_id": seen[1]})
    assert again.status_code == 409  # only a lead in the desk's queue
    assert stand.client.post(f"/v1/leads/{lead['id']}/assign", headers=stand.partner(seen[0]),
                             json={"partner_id": seen[0]}).status_code == 403
    blank = stand.client.post(f"/v1/leads/{stand.lead()['id']}/decline", headers=stand.partner("p-dec-0"),
                              json={"reason": "  "})
    assert blank.status_code in (404, 422)
    types = [e["type"] for e in stand.events(DEALS_LEADS)]
    assert types.count("lead.declined") == 3 and types.count("lead.reassigned") == 4  # 2 on, 1 to the desk, 1 by hand


def test_the_sla_job_expires_a_lead_and_reassigns_it(stand):
    stand.profile("p-slow", tier="platinum")
    stand.profile("p-next", tier="registered")
    lead = stand.lead(sla_hours=0.5)
    assert lead["assignee"] == "p-slow"
    policy = lead_policy(stand.settings)
    assert lead_handlers.reassign_overdue(uow_factory=stand.deals.uow_factory, policy=policy) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert lead_handlers.reassign_overdue(uow_factory=stand.deals.uow_factory, policy=policy, now=later) == 1
    moved = stand.client.get(f"/v1/leads/{lead['id']}", headers=stand.bearer("admin")).get_json()
    assert moved["assignee"] == "p-next" and moved["attempts"][0]["outcome"] == "expired"
    assert moved["due_at"] > moved["attempts"][1]["assigned_at"]
    types = [e["type"] for e in stand.events(DEALS_LEADS)]
    assert "lead.expired" in types and "lead.reassigned" in types
    stats = stand.client.get("/v1/leads/analytics", headers=stand.bearer("desk")).get_json()
    assert stats["reassignments"] >= 1 and stats["by_tier"]["platinum"]["expired"] >= 1


def test_bad_leads_are_refused(stand):
    sales = stand.bearer("sales")
    unknown = stand.client.post("/v1/leads", headers=sales, json={"customer": new_customer(),
                                                                   "products": [str(uuid.uuid4())]})
    assert unknown.status_code == 422 and "products.0" in unknown.get_json()["errors"]
    country = stand.client.post("/v1/leads", headers=sales, json={"customer": new_customer("ZZ"),
                                                                   "products": [stand.product]})
    assert country.status_code == 422
    partner = stand.client.post("/v1/leads", headers=stand.partner("p-1"), json={"customer": new_customer(),
                                                                                  "products": [stand.product]})
    assert partner.status_code == 403
    nobody = stand.lead(new_customer("JP"))
    assert nobody["status"] == "unassigned" and "No partner" in nobody["desk_reason"]
