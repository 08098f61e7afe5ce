"""A case with many members travels in bounded parts, and deals decides every registration from them."""
import datetime as dt

from services.conflict.domain import events as case_events
from shared.auth import TokenService
from shared.events import CloudEvent
from shared.topics import CONFLICT_CASES
from tests.contract.pipeline import Pipeline

MEMBERS = 30
BUDGET = 2048  # a few members a part (the real budget is 192 kB), so that this case travels in many parts


def test_a_large_case_opens_once_is_decided_in_parts_and_every_registration_gets_its_outcome(tmp_path, monkeypatch):
    monkeypatch.setattr(case_events, "PART_BUDGET_BYTES", BUDGET)
    pipeline = Pipeline(tmp_path)
    tokens = TokenService(pipeline.services["deals"].settings.jwt_secret)
    admin = {"Authorization": "Bearer " + tokens.issue("admin")}
    catalog, deals, conflict = pipeline.apps["catalog"], pipeline.apps["deals"], pipeline.apps["conflict"]
    listing = catalog.post("/v1/listings", headers=admin, json={
        "title": "Large Case Suite", "summary": "x", "vendor": "V", "category": "contracts", "tags": ["t"],
        "offers": [{"name": "Std", "channels": ["reseller"], "regions": ["EMEA"],
                    "pricing": {"model": "flat", "price": {"amount": "10.00", "currency": "EUR"}}}]}).json
    catalog.post(f"/v1/listings/{listing['id']}/publish", headers=admin)
    pipeline.settle()
    body = {"customer": {"name": "Contoso GmbH", "domain": "contoso.de", "country": "DE"},
            "products": [listing["id"]], "amount": {"amount": "100.00", "currency": "EUR"},
            "expected_close": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
    partners = {}
    for n in range(MEMBERS):
        partner = {"Authorization": "Bearer " + tokens.issue("partner", partner_id=f"large-{n:02d}")}
        response = deals.post("/v1/deals", headers=partner, json=body)
        assert response.status_code == 201, response.json
        partners[response.json["id"]] = partner
        pipeline.settle()
    first = next(iter(partners))
    case_id = deals.get(f"/v1/deals/{list(partners)[1]}", headers=partners[list(partners)[1]]).json["case_ref"]
    assert case_id
    desk = {"Authorization": "Bearer " + tokens.issue("desk")}
    assert len(conflict.get(f"/v1/cases/{case_id}", headers=desk).json["registrations"]) == MEMBERS, "the API: all"
    resolved = conflict.post(f"/v1/cases/{case_id}/resolve", headers=desk,
                             json={"decision": "award", "winner": first, "note": "the first"})
    assert resolved.status_code == 200, resolved.json
    pipeline.settle()

    sent = [CloudEvent.from_json(m.value) for m in pipeline.bus.messages(CONFLICT_CASES)]
    of_case = [e for e in sent if e.subject == case_id]
    assert [e.type for e in of_case].count("case.opened") == 1
    decided = [e for e in of_case if e.type == "case.resolved"]
    assert len(decided) > 5 and {e.data["part"]["of"] for e in decided} == {len(decided)}
    assert sum(len(e.data["resolution"]["outcomes"]) for e in decided) == MEMBERS
    assert max(len(e.to_json()) for e in of_case) < BUDGET + 4096, "the members' share stays near its budget"
    statuses = {deal_id: deals.get(f"/v1/deals/{deal_id}", headers=who).json["status"]
                for deal_id, who in partners.items()}
    assert statuses.pop(first) == "approved" and set(statuses.values()) == {"rejected"}
