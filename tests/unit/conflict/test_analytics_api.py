"""GET /v1/analytics and the analytics gauges on /metrics, through Flask's test client on SQLite."""
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from services.conflict.analytics import CaseRow, Facts, RegistrationGroup
from services.conflict.api.analytics import AnalyticsGauges
from services.conflict.app import create_app
from services.conflict.bootstrap import bootstrap
from services.conflict.settings import ConflictSettings
from shared.auth import TokenService
from shared.bus import InMemoryBus
from shared.clock import utcnow
from tests.unit.conflict.test_analytics import engine, seed  # noqa: F401 - the engine fixture

WINDOW = "from=2030-01-01&to=2030-01-31"


@pytest.fixture
def client(engine, tmp_path):  # noqa: F811 - the fixture imported above
    settings = ConflictSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)})
    conflict = bootstrap(settings, bus=InMemoryBus(), engine=engine)
    return create_app({"SETTINGS": settings, "TESTING": True}, conflict=conflict).test_client()


def as_(role, **claims):
    tokens = TokenService(ConflictSettings.from_env(env={}).jwt_secret)
    return {"Authorization": "Bearer " + tokens.issue(role, **claims)}


@pytest.mark.parametrize("role", ["desk", "admin"])
def test_the_desk_and_admins_read_the_figures_of_a_window(client, engine, role):  # noqa: F811
    seed(engine)
    response = client.get(f"/v1/analytics?{WINDOW}", headers=as_(role))
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["from"] == "2030-01-01T00:00:00Z" and answer["to"] == "2030-02-01T00:00:00Z", "a date `to` is whole"
    assert answer["registrations"]["total"] == 11
    assert answer["conflicts"]["by_channel_pair"][0] == {"pair": ["reseller", "direct"], "registrations": 9,
                                                         "cases": 2, "rate": 0.2222}
    assert answer["decisions"]["time_to_decision_s"] == {"p50": 10800.0, "p90": 146160.0, "max": 180000.0}
    # Today is long before 2030: the case still open is pending, not yet past its due time.
    assert (answer["sla"]["breached"], answer["sla"]["pending"]) == (1, 1)
    assert answer["partners"][0]["partner_id"] == "r-one"
    apac = client.get(f"/v1/analytics?{WINDOW}&region=APAC", headers=as_(role)).json
    assert apac["region"] == "APAC" and apac["registrations"]["by_region"] == {"APAC": 2}


def test_without_a_window_the_answer_covers_the_last_90_days(client):
    answer = client.get("/v1/analytics", headers=as_("desk")).json
    start, end = (dt.datetime.fromisoformat(answer[k].replace("Z", "+00:00")) for k in ("from", "to"))
    assert end - start == dt.timedelta(days=90) and abs((utcnow() - end).total_seconds()) < 60
    assert answer["registrations"] == {"total": 0, "by_channel": {}, "by_region": {}}
    only_to = client.get("/v1/analytics?to=2030-03-31T12:00:00%2B02:00", headers=as_("desk")).json
    assert (only_to["from"], only_to["to"]) == ("2029-12-31T10:00:00Z", "2030-03-31T10:00:00Z")


@pytest.mark.parametrize(("query", "field"), [
    ("from=2030-02-01&to=2030-01-01", "from"),
    ("from=2030-01-01T10:00:00Z&to=2030-01-01T10:00:00Z", "from"),
    ("from=2027-01-01&to=2029-01-02", "to"),
    ("from=2010-01-01", "to"),
    ("region=MARS", "region"),
    ("region=emea", "region"),
    ("from=last-tuesday", "from"),
    ("to=0001-01-01", "to"),
    ("to=9999-12-31", "to"),
])
def test_a_bad_window_or_an_unknown_region_is_a_422_problem(client, query, field):
    response = client.get(f"/v1/analytics?{query}", headers=as_("admin"))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json


def test_a_window_of_exactly_two_years_is_allowed(client):
    assert client.get("/v1/analytics?from=2028-02-29&to=2030-02-27", headers=as_("desk")).status_code == 200
    assert client.get("/v1/analytics?from=2028-03-01&to=2030-02-28T23:59:59Z", headers=as_("desk")).status_code == 200


def test_partners_and_other_roles_may_not_read_analytics(client):
    assert client.get("/v1/analytics").status_code == 401
    for role, claims in [("partner", {"partner_id": "p-1"}), ("marketplace", {"partner_id": "m-1"}), ("sales", {})]:
        forbidden = client.get(f"/v1/analytics?{WINDOW}", headers=as_(role, **claims))
        assert forbidden.status_code == 403 and forbidden.mimetype == "application/problem+json", role
    bad_query = client.get("/v1/analytics?region=MARS", headers=as_("partner", partner_id="p-1"))
    assert bad_query.status_code == 403, "a partner learns nothing about the query's shape"


def test_metrics_carry_the_last_90_days_as_gauges(client, engine):  # noqa: F811
    two_weeks_ago = utcnow() - dt.timedelta(days=14)
    monday_10am = (two_weeks_ago - dt.timedelta(days=two_weeks_ago.weekday())).replace(hour=10, minute=0, second=0,
                                                                                       microsecond=0)
    seed(engine, at=monday_10am)  # the same business hours as the 2030 Monday the other tests use
    text = client.get("/metrics").get_data(as_text=True)
    assert 'dealgate_conflict_rate{pair="reseller/direct"} 0.2222' in text
    assert 'dealgate_conflict_cases{pair="reseller/marketplace"} 1.0' in text
    assert 'dealgate_time_to_decision_seconds{quantile="0.5"} 10800.0' in text
    assert "dealgate_time_to_decision_max_seconds 180000.0" in text
    assert 'dealgate_sla_breached_cases{queue="partner-vs-partner"} 1.0' in text
    assert 'dealgate_registrations_by_channel{channel="reseller"} 7.0' in text
    assert 'dealgate_partner_award_rate{partner="direct"} 1.0' in text
    assert 'dealgate_partner_award_rate{partner="r-two"}' not in text, "an undefined rate is no sample"
    board = json.loads((Path(__file__).parents[3] / "deploy" / "grafana" / "dealgate.json").read_text())
    charted = {name for panel in board["panels"] for target in panel["targets"]
               for name in re.findall(r"dealgate_[a-z_]+", target["expr"])}
    served = set(re.findall(r"^(dealgate_[a-z_]+)[{ ]", text, re.MULTILINE))
    assert charted and charted <= served, f"the example board charts gauges /metrics lacks: {charted - served}"


class CountingSource:
    """Answers every window with the same facts, and counts how often it was read."""

    def __init__(self, facts):
        self.facts, self.reads = facts, 0

    def read(self, start, end):
        self.reads += 1
        return self.facts


class BrokenSource:
    def read(self, start, end):
        raise ConnectionError("the database is away")


def test_gauges_are_computed_once_per_cache_period():
    opened = utcnow() - dt.timedelta(days=1)
    members = [{"deal_id": f"d{i}", "partner_id": f"p{i}", "channel": "msp", "customer": {"country": "DE"}}
               for i in (1, 2)]
    case = CaseRow(id="c1", queue="general", status="open", opened_at=opened, sla_due_at=opened, registrations=members,
                   resolution=None)
    groups = [RegistrationGroup("p1", "msp", "DE", 3, 1), RegistrationGroup("p2", "msp", "DE", 1, 1)]
    source = CountingSource(Facts(groups, [case]))
    now = [100.0]
    gauges = AnalyticsGauges(source, cache_s=10, clock=lambda: now[0])
    first = {m.name: m.samples for m in gauges.collect()}
    [rate] = first["dealgate_conflict_rate"]
    assert rate.labels == {"pair": "msp/msp"} and rate.value == 0.25
    assert first["dealgate_sla_breached_cases"][0].value == 1
    now[0] = 105.0
    list(gauges.collect())
    assert source.reads == 1
    now[0] = 111.0
    list(gauges.collect())
    assert source.reads == 2


def test_a_scrape_while_the_database_is_away_leaves_the_gauges_out():
    assert list(AnalyticsGauges(BrokenSource()).collect()) == []


def test_the_desk_page_loads_its_charting_library_from_the_app_itself(client):
    page = client.get("/desk").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert "desk/assets/vendor/chart.umd.min.js" in scripts
    assert not [s for s in scripts if "//" in s or s.startswith("/")], "relative URLs into the app, no CDN"
    library = client.get("/desk/assets/vendor/chart.umd.min.js")
    assert library.status_code == 200 and library.mimetype in ("text/javascript", "application/javascript")
    assert b"Chart.js v4" in library.data[:200]
    assert b"MIT License" in client.get("/desk/assets/vendor/chart.js.LICENSE.txt").data
    assert client.get("/desk/assets/vendor/README.txt").status_code == 404, "only the files it means to serve"
