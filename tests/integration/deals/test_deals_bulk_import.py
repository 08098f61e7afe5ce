"""Bulk import and export on both stores: a CSV file becomes a job whose rows go through the single submission's
validation, idempotency and product checks, with a per-row report; an unusable file is refused whole before any
row is taken; a job whose runner stopped is finished by another without registering a row twice; the export
streams the caller's registrations (everyone's for desk and admin), safe against formula injection."""
from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import uuid

import pytest
import sqlalchemy as sa

from services.deals.app import create_app
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.import_runner import ImportRunner
from services.deals.settings import DealsSettings
from services.deals.storage import tables
from services.deals.storage.imports import ImportStore, import_jobs
from shared.auth import Principal, TokenService
from shared.db import upgrade_to_head
from tests.integration.deals.builders import published_listing

CLOSE = (dt.date.today() + dt.timedelta(days=40)).isoformat()
HEADER = "idempotency_key,customer_name,customer_country,customer_domain,contact_email,products,amount,currency," \
         "expected_close,notes"


class World:
    def __init__(self, url: str):
        upgrade_to_head(url, MIGRATIONS)
        self.settings = DealsSettings.from_env(env={}, database_url=url, relay_doorbell=None,
                                               kafka_bootstrap_servers="127.0.0.1:1")
        self.deals = bootstrap(self.settings)
        listing = published_listing()
        with self.deals.uow_factory() as uow:
            uow.catalog.upsert(listing)
            uow.commit()
        self.product = listing["id"]
        self.client = create_app({"SETTINGS": self.settings, "TESTING": True}, deals=self.deals).test_client()
        self.tokens = TokenService(self.settings.jwt_secret)

    def bearer(self, role: str = "partner", **claims) -> dict:
        return {"Authorization": "Bearer " + self.tokens.issue(role, **claims)}

    def upload(self, who: dict, text: str | bytes, content_type: str = "text/csv; charset=utf-8"):
        data = text.encode() if isinstance(text, str) else text
        return self.client.post("/v1/deals/import", data=data, headers={**who, "Content-Type": content_type,
                                                                         "X-Filename": "open-deals.csv"})

    def row(self, key: str = "", *, name: str | None = None, country: str = "SE", product: str | None = None,
            notes: str = "") -> str:
        name = name if name is not None else f"Kund {uuid.uuid4().hex[:6]} AB"
        return ",".join([key, f'"{name}"', country, f"{uuid.uuid4().hex[:8]}.se", "anna@example.se",
                         product or self.product, "1200.50", "EUR", CLOSE, notes])

    def jobs(self) -> int:
        with self.deals.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(import_jobs)).scalar_one()

    def registrations_of(self, partner_id: str) -> int:
        with self.deals.engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(tables.registrations)
                                      .where(tables.registrations.c.partner_id == partner_id)).scalar_one()


@pytest.fixture
def world(database_url):
    world = World(database_url)
    yield world
    world.deals.engine.dispose()


def _run(world: World) -> None:
    ImportRunner(world.deals, batch_rows=2).run_until_idle()


def test_each_row_is_submitted_like_a_single_submission_and_reported(world):
    partner_id = f"imp-{uuid.uuid4().hex[:6]}"
    who = world.bearer("partner", partner_id=partner_id)
    text = "\n".join([HEADER, world.row("k-1"), world.row("k-2"), world.row(),
                      world.row("k-4", name="", country="XX"), world.row("k-5", product=str(uuid.uuid4())), ""])
    accepted = world.upload(who, text)
    assert accepted.status_code == 202, accepted.json
    job = accepted.json
    assert job["status"] == "queued" and job["total_rows"] == 5 and accepted.headers["Location"].endswith(job["id"])
    _run(world)
    report = world.client.get(accepted.headers["Location"], headers=who).json
    assert report["status"] == "done" and report["filename"] == "open-deals.csv"
    assert (report["processed_rows"], report["created_rows"], report["failed_rows"]) == (5, 3, 2)
    rows = {row["line"]: row for row in report["rows"]}
    assert [rows[line]["status"] for line in range(2, 7)] == ["created"] * 3 + ["failed"] * 2
    assert all(rows[line]["deal_status"] == "submitted" and rows[line]["http_status"] == 201 for line in (2, 3, 4))
    assert rows[4]["idempotency_key"] == f"import:{job['id']}:4"
    assert rows[5]["http_status"] == 422 and {"customer_name", "customer_country"} <= set(rows[5]["errors"])
    assert rows[6]["http_status"] == 422 and "products" in rows[6]["errors"]
    deal = world.client.get(f"/v1/deals/{rows[2]['deal_id']}", headers=who).json
    assert deal["partner_id"] == partner_id and deal["amount"] == {"amount": "1200.50", "currency": "EUR"}
    assert world.registrations_of(partner_id) == 3

    # The same keys again, in another file: the keyed rows replay their registrations; a key with another body
    # is a conflict, as for POST /v1/deals.
    again = world.upload(who, "\n".join([HEADER, world.row("k-3-new"), world.row("k-2")]))
    _run(world)
    second = world.client.get(f"/v1/deals/import/{again.json['id']}", headers=who).json
    assert [row["status"] for row in second["rows"]] == ["created", "failed"]
    assert second["rows"][1]["http_status"] == 409
    replay_text = "\n".join([HEADER, world.row("solo")])
    first = world.upload(who, replay_text)
    _run(world)
    replayed = world.upload(who, replay_text)
    _run(world)
    ids = [world.client.get(f"/v1/deals/import/{r.json['id']}", headers=who).json["rows"][0] for r in (first, replayed)]
    assert ids[1]["status"] == "replayed" and ids[1]["deal_id"] == ids[0]["deal_id"]


def test_only_the_importer_desk_and_admin_read_a_report_and_only_submitters_import(world):
    who = world.bearer("partner", partner_id=f"imp-{uuid.uuid4().hex[:6]}")
    job = world.upload(who, "\n".join([HEADER, world.row()])).json
    other = world.bearer("partner", partner_id=f"imp-{uuid.uuid4().hex[:6]}")
    assert world.client.get(f"/v1/deals/import/{job['id']}", headers=other).status_code == 404
    assert world.client.get(f"/v1/deals/import/{job['id']}", headers=world.bearer("desk")).status_code == 200
    assert world.client.get("/v1/deals/import/not-a-job", headers=who).status_code == 404
    assert world.upload(world.bearer("desk"), "\n".join([HEADER, world.row()])).status_code == 403


@pytest.mark.parametrize(("content", "where", "says"), [
    ("customer_name,customer_country\nAcme,SE\n", "columns", "Missing required columns"),
    (HEADER + ",colour\n", "columns", "Unknown column: 'colour'"),
    ('customer_name,customer_country,products,amount,currency,expected_close\n"Acme,SE,p,1,EUR,2030-01-01\n',
     "line 2", "Not well-formed CSV"),
    ("customer_name,customer_country,products,amount,currency,expected_close\nAcme,SE,p,1,EUR\n",
     "line 2", "Has 5 cells"),
    ("", "file", "empty"),
    ("customer_name,customer_country,products,amount,currency,expected_close\n", "file", "no rows"),
    ("idempotency_key,customer_name,customer_country,products,amount,currency,expected_close\n"
     "a,X,SE,p,1,EUR,2030-01-01\na,Y,SE,p,1,EUR,2030-01-01\n", "line 3", "also on line 2"),
    ("customer_name,customer_country,products,amount,currency,expected_close\n"
     + "X,SE,p,1,EUR,2030-01-01\n" * 10_001, "file", "More than 10,000 rows"),
])
def test_an_unusable_file_is_refused_whole_before_any_row_is_taken(world, content, where, says):
    who = world.bearer("partner", partner_id="imp-refused")
    refused = world.upload(who, content)
    assert refused.status_code == 422, refused.json
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert any(says in message for message in refused.json["errors"][where]), refused.json
    assert world.jobs() == 0


def test_a_file_that_is_not_utf8_or_not_csv_is_refused(world):
    who = world.bearer("partner", partner_id="imp-encoding")
    latin1 = "customer_name,customer_country,products,amount,currency,expected_close\nMalmö AB,SE,p,1,EUR,2030-01-01\n"
    refused = world.upload(who, latin1.encode("latin-1"))
    assert refused.status_code == 422 and "not UTF-8" in refused.json["errors"]["file"][0]
    assert "line 2" in refused.json["errors"]["file"][0]
    assert world.upload(who, latin1, content_type="text/csv; charset=iso-8859-1").status_code == 422
    assert world.upload(who, latin1, content_type="text/plain").status_code == 415
    # A byte-order mark, as spreadsheets write "CSV UTF-8", is fine.
    assert world.upload(who, b"\xef\xbb\xbf" + "\n".join([HEADER, world.row()]).encode()).status_code == 202
    assert world.jobs() == 1


def test_a_stopped_runner_s_job_is_finished_by_another_without_a_row_registered_twice(world):
    partner_id = f"imp-{uuid.uuid4().hex[:6]}"
    who = world.bearer("partner", partner_id=partner_id)
    job = world.upload(who, "\n".join([HEADER] + [world.row(f"r-{n}" if n % 2 else "") for n in range(9)])).json
    store = ImportStore(world.deals.engine)
    lease = dt.timedelta(milliseconds=200)
    crashed = ImportRunner(world.deals, worker="crashed", lease=lease)
    taken = store.take_next("crashed", lease=lease)
    assert taken is not None and taken["id"] == job["id"]
    principal = Principal(**taken["principal"])
    pending = store.pending_rows(job["id"], 4)
    done = [crashed.submit_row(taken, principal, row) for row in pending[:2]]
    assert store.record(job["id"], "crashed", done, lease=lease)
    for row in pending[2:]:  # registered, then the process died before it wrote their results
        crashed.submit_row(taken, principal, row)
    assert world.registrations_of(partner_id) == 4
    threading.Event().wait(0.3)  # the lease runs out
    ImportRunner(world.deals, worker="successor", lease=lease).run_until_idle()
    report = world.client.get(f"/v1/deals/import/{job['id']}", headers=who).json
    assert report["status"] == "done" and report["processed_rows"] == 9 and report["failed_rows"] == 0
    assert world.registrations_of(partner_id) == 9, "no row registered twice"
    assert len({row["deal_id"] for row in report["rows"]}) == 9
    # Its own key met again after the crash still counts as created; a row's own key replays, as it would for anyone.
    assert (report["created_rows"], report["replayed_rows"]) == (8, 1)
    assert [row["line"] for row in report["rows"] if row["status"] == "replayed"] == [5]


def test_the_export_streams_your_registrations_safe_against_formula_injection(world):
    partner_id = f"exp-{uuid.uuid4().hex[:6]}"
    who = world.bearer("partner", partner_id=partner_id)
    hostile = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\uff1dFULLWIDTH"]
    for name in hostile:
        body = {"customer": {"name": name, "country": "SE"}, "products": [world.product],
                "amount": {"amount": "10.00", "currency": "EUR"}, "expected_close": CLOSE,
                "notes": "=cmd|' /C calc'!A0"}
        assert world.client.post("/v1/deals", json=body, headers=who).status_code == 201
    world.client.post("/v1/deals", json={**body, "customer": {"name": "Other AB", "country": "SE"}},
                      headers=world.bearer("partner", partner_id="someone-else"))
    exported = world.client.get("/v1/deals/export.csv", headers=who)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    records = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(records) == len(hostile) and {r["partner_id"] for r in records} == {partner_id}
    names = {record["customer_name"] for record in records}
    assert names == {"'" + name for name in hostile}
    assert all(record["notes"].startswith("'=") for record in records)
    everyone = world.client.get("/v1/deals/export.csv?status=submitted", headers=world.bearer("desk"))
    partners = {r["partner_id"] for r in csv.DictReader(io.StringIO(everyone.get_data(as_text=True)))}
    assert {partner_id, "someone-else"} <= partners


def test_a_file_of_the_full_ten_thousand_rows_over_one_mib_is_taken(world):
    """The 1 MiB JSON limit of the API does not apply to the import's CSV (16 MiB)."""
    who = world.bearer("partner", partner_id=f"imp-{uuid.uuid4().hex[:6]}")
    rows = [world.row(f"big-{n}", notes="n" * 100) for n in range(10_000)]
    text = "\n".join([HEADER, *rows])
    assert len(text.encode()) > 1024 * 1024
    accepted = world.upload(who, text)
    assert accepted.status_code == 202, accepted.json
    assert accepted.json["total_rows"] == 10_000


def test_a_browser_form_uploads_the_file_as_multipart(world):
    who = world.bearer("partner", partner_id=f"imp-{uuid.uuid4().hex[:6]}")
    text = "\n".join([HEADER, world.row("form-1")]).encode()
    accepted = world.client.post("/v1/deals/import", headers=who, content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(text), "from-the-portal.csv", "text/csv")})
    assert accepted.status_code == 202, accepted.json
    assert accepted.json["filename"] == "from-the-portal.csv" and accepted.json["total_rows"] == 1
    no_file = world.client.post("/v1/deals/import", headers=who, content_type="multipart/form-data",
                                data={"other": "x"})
    assert no_file.status_code == 422 and "file" in no_file.json["errors"]


def test_jobs_take_turns_so_a_small_file_is_not_stuck_behind_a_large_one(world):
    who = world.bearer("partner", partner_id=f"imp-{uuid.uuid4().hex[:6]}")
    large = world.upload(who, "\n".join([HEADER] + [world.row() for _ in range(40)])).json
    small = world.upload(world.bearer("sales"), "\n".join([HEADER, world.row()])).json
    runner = ImportRunner(world.deals, batch_rows=5, turn_s=0.0)  # one batch per turn
    assert runner.run_next() and runner.run_next()
    store = ImportStore(world.deals.engine)
    assert store.job(small["id"])["status"] == "done"
    assert store.job(large["id"])["processed_rows"] == 5
    runner.run_until_idle()
    assert store.job(large["id"])["status"] == "done"
