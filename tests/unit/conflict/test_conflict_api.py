"""The conflict HTTP API and the desk page through Flask's test client, on the in-memory unit of work."""
import pytest

from services.conflict import handlers
from services.conflict.app import create_app
from services.conflict.bootstrap import bootstrap
from services.conflict.overlaps import OverlapDetector
from services.conflict.settings import ConflictSettings
from shared.auth import TokenService
from shared.bus import InMemoryBus
from shared.events import CloudEvent
from tests.unit.conflict.builders import MONDAY_10AM, RULES, deal, submitted, unique
from tests.unit.conflict.fakes import FakeConflictUnitOfWork, FakeDatabase


@pytest.fixture
def db():
    return FakeDatabase()


@pytest.fixture
def client(db, tmp_path):
    settings = ConflictSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)})
    conflict = bootstrap(settings, bus=InMemoryBus())
    conflict.uow_factory = lambda: FakeConflictUnitOfWork(db)
    return create_app({"SETTINGS": settings, "TESTING": True}, conflict=conflict).test_client()


def as_(role, **claims):
    tokens = TokenService(ConflictSettings.from_env(env={}).jwt_secret)
    return {"Authorization": "Bearer " + tokens.issue(role, **claims)}


def a_case(db) -> tuple[str, list[dict]]:
    detector, product = OverlapDetector(), unique("listing")
    customer = {"name": "Quillfeather Analytics Ltd", "country": "GB", "domain": f"{unique('qf')}.co.uk"}
    deals = [deal(customer=customer, products=[product]), deal(channel="direct", customer=customer, products=[product])]
    for data in deals:
        handlers.on_deal_submitted(submitted(data), uow=FakeConflictUnitOfWork(db), detector=detector, rules=RULES,
                                   now=MONDAY_10AM)
    return next(iter(db.cases)), deals


def test_the_desk_page_and_its_files_are_public(client):
    page = client.get("/desk")
    assert page.status_code == 200 and b"channel desk" in page.data and page.mimetype == "text/html"
    assert client.get("/desk/assets/desk.js").status_code == 200
    assert client.get("/desk/assets/desk.css").mimetype == "text/css"
    missing = client.get("/desk/assets/..%2Fapi%2Fdesk.py")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_queues_answer_the_desk_with_counts_per_queue(client, db):
    a_case(db)
    response = client.get("/v1/queues", headers=as_("desk"))
    assert response.status_code == 200
    queue = next(q for q in response.json if q["name"] == "partner-vs-direct")
    assert set(queue) == {"name", "open", "claimed", "oldest_open_age_s", "sla_breached"} and queue["open"] == 1


@pytest.mark.parametrize("path", ["/v1/queues", "/v1/cases"])
def test_partners_may_not_read_the_desk_apis(client, path):
    assert client.get(path).status_code == 401
    forbidden = client.get(path, headers=as_("partner", partner_id="p-1"))
    assert forbidden.status_code == 403 and forbidden.mimetype == "application/problem+json"


def test_claim_and_award_over_http(client, db):
    case_id, (first, second) = a_case(db)
    desk = as_("desk", sub="desk:ana")
    listed = client.get("/v1/cases?status=open", headers=desk).json["items"]
    assert [c["id"] for c in listed] == [case_id]
    assert client.post(f"/v1/cases/{case_id}/claim", headers=desk).json["status"] == "claimed"
    other_desk = client.post(f"/v1/cases/{case_id}/claim", headers=as_("desk", sub="desk:bo"))
    assert other_desk.status_code == 409
    resolved = client.post(f"/v1/cases/{case_id}/resolve", headers=desk,
                           json={"decision": "award", "winner": second["id"], "note": "named account"})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["resolution"]["outcomes"][second["id"]]["status"] == "approved"


@pytest.mark.parametrize("body, field", [({}, "decision"), ({"decision": "flip", "note": "x"}, "decision"),
                                         ({"decision": "dismiss"}, "note"),
                                         ({"decision": "dismiss", "note": ""}, "note")])
def test_invalid_resolve_bodies_answer_422_with_field_errors(client, db, body, field):
    case_id, _ = a_case(db)
    response = client.post(f"/v1/cases/{case_id}/resolve", headers=as_("desk"), json=body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in str(response.json["errors"])


def test_unknown_cases_and_bad_queries_never_answer_500(client):
    desk = as_("desk")
    assert client.get(f"/v1/cases/{unique('nope')}", headers=desk).status_code == 404
    assert client.post(f"/v1/cases/{unique('nope')}/claim", headers=desk).status_code == 404
    assert client.get("/v1/cases?status=weird", headers=desk).status_code == 422
    assert client.get("/v1/cases?limit=0", headers=desk).status_code == 422
    assert client.post(f"/v1/cases/{unique('x')}/resolve", headers=desk, data="{", content_type="application/json"
                       ).status_code == 400


def test_a_case_names_its_products_by_the_titles_conflict_learned_from_the_catalog(client, db):
    case_id, deals = a_case(db)
    [product] = deals[0]["products"]
    listing = {"id": product, "title": "Threat Radar Suite", "status": "published", "version": 2}
    handlers.on_listing_changed(_listing_event(listing), uow=FakeConflictUnitOfWork(db))
    handlers.on_listing_changed(_listing_event({**listing, "title": "An older title", "version": 1}),
                                uow=FakeConflictUnitOfWork(db))
    case = client.get(f"/v1/cases/{case_id}", headers=as_("desk")).json
    assert [r["products"] for r in case["registrations"]] == [[{"id": product, "title": "Threat Radar Suite"}]] * 2
    listed = client.get("/v1/cases", headers=as_("desk")).json["items"][0]
    assert listed["registrations"][0]["products"] == [{"id": product, "title": "Threat Radar Suite"}]


def test_a_product_conflict_has_not_heard_of_yet_has_no_title(client, db):
    case_id, deals = a_case(db)
    case = client.get(f"/v1/cases/{case_id}", headers=as_("desk")).json
    assert case["registrations"][0]["products"] == [{"id": deals[0]["products"][0], "title": None}]


def _listing_event(listing: dict) -> CloudEvent:
    return CloudEvent(type="listing.updated", source="/dealgate/catalog", subject=listing["id"], data=listing)


def test_cases_page_oldest_first_across_statuses_with_an_opaque_cursor(client, db):
    for _ in range(3):
        a_case(db)
    opened = list(db.cases)
    handlers.claim_case(opened[1], by="desk:ana", uow=FakeConflictUnitOfWork(db))
    oldest_first = [c.id for c in sorted((handlers.get_case(i, uow=FakeConflictUnitOfWork(db)) for i in opened),
                                         key=lambda c: (c.opened_at, c.id))]
    seen, cursor = [], None
    while True:
        query = "status=open&status=claimed&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/cases?{query}", headers=as_("desk")).json
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == oldest_first
    only_claimed = client.get("/v1/cases?status=claimed", headers=as_("desk")).json["items"]
    assert [c["id"] for c in only_claimed] == [opened[1]]
    bad = client.get("/v1/cases?cursor=not-a-cursor", headers=as_("desk"))
    assert bad.status_code == 422 and "cursor" in bad.json["errors"]
