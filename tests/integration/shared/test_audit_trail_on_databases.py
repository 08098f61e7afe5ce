"""The audit trail on both stores: every state change leaves an entry naming who and under which correlation id,
the tables refuse UPDATE and DELETE, concurrent writers and sealers leave one unbroken chain, and an attacker who
disables the triggers and rewrites or removes an entry is found by `dealgate audit verify`."""
from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from services.catalog.app import create_app
from services.catalog.bootstrap import MIGRATIONS as CATALOG_MIGRATIONS
from services.catalog.settings import CatalogSettings
from services.catalog.storage import tables as catalog_tables
from services.deals.bootstrap import MIGRATIONS as DEALS_MIGRATIONS
from services.deals.storage import tables as deals_tables
from shared.audit import AuditChain, append_entries, bind_actor, unbind_actor, verify_chain
from shared.auth import TokenService
from shared.cli import main as dealgate
from shared.db import create_engine, upgrade_to_head
from shared.events import CloudEvent

ENTRIES, CHAIN = deals_tables.audit_log, deals_tables.audit_chain


def _event(subject: str, status: str = "submitted") -> CloudEvent:
    return CloudEvent(type="deal.submitted", source="/dealgate/deals", subject=subject,
                      data={"status": status, "version": 1, "contact": {"email": "jo@example.com"}},
                      correlationid=uuid.uuid4().hex)


def _write(engine, count: int, actor: tuple[str, str] = ("partner:acme", "partner")) -> None:
    token = bind_actor(*actor)
    try:
        for _ in range(count):
            with engine.begin() as connection:
                append_entries(connection, ENTRIES, [_event(str(uuid.uuid4()))])
    finally:
        unbind_actor(token)


def _attacker_runs(engine, statement: str, params: dict) -> None:
    """What someone with the database's owner credentials can do: switch the guard off, change, switch it on."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            connection.execute(sa.text(statement), params)
            connection.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        else:
            triggers = connection.execute(sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")).all()
            for name, _ in triggers:
                connection.execute(sa.text(f"DROP TRIGGER {name}"))
            connection.execute(sa.text(statement), params)
            for _, sql in triggers:
                connection.execute(sa.text(sql))


@pytest.fixture
def deals_db(database_url):
    upgrade_to_head(database_url, DEALS_MIGRATIONS)
    engine = create_engine(database_url, pool_size=8)
    yield database_url, engine
    engine.dispose()


def test_the_tables_refuse_update_and_delete(deals_db):
    _, engine = deals_db
    _write(engine, 3)
    AuditChain(engine, ENTRIES, CHAIN).seal_all()
    for statement in ("UPDATE audit_log SET actor_subject = 'someone else'", "DELETE FROM audit_log",
                      "UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text("TRUNCATE audit_log"))
    assert verify_chain(engine, ENTRIES, CHAIN).sealed == 3


def test_writers_and_two_sealers_side_by_side_leave_one_unbroken_chain(deals_db):
    _, engine = deals_db
    chain = AuditChain(engine, ENTRIES, CHAIN)
    stop = threading.Event()
    sealers = [threading.Thread(target=chain.keep_sealing, args=(stop, 0.01)) for _ in range(2)]
    writers = [threading.Thread(target=_write, args=(engine, 60, (f"partner:{n}", "partner"))) for n in range(4)]
    for thread in sealers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    stop.set()
    for thread in sealers:
        thread.join(timeout=30)
    chain.seal_all()
    result = verify_chain(engine, ENTRIES, CHAIN)
    assert result.intact and result.sealed == 240 and result.unsealed == 0, result
    with engine.connect() as connection:
        seqs = connection.execute(sa.select(CHAIN.c.seq).order_by(CHAIN.c.seq)).scalars().all()
        details = connection.execute(sa.select(ENTRIES.c.details)).scalars().all()
    assert seqs == list(range(1, 241))
    assert not any("jo@example.com" in text for text in details), "no personal data in the audit trail"


@pytest.mark.parametrize("tampering", ["change", "delete"])
def test_verify_finds_the_first_entry_an_attacker_rewrote_or_removed(deals_db, tampering, capsys):
    url, engine = deals_db
    _write(engine, 10)
    AuditChain(engine, ENTRIES, CHAIN).seal_all()
    assert dealgate(["audit", "verify", "--service", "deals", "--database-url", url]) == 0
    assert "deals: intact: 10 sealed entries" in capsys.readouterr().out
    with engine.connect() as connection:
        victim = connection.execute(sa.select(CHAIN.c.entry_id).where(CHAIN.c.seq == 4)).scalar_one()
    if tampering == "change":
        _attacker_runs(engine, "UPDATE audit_log SET actor_subject = 'partner:rival' WHERE id = :id", {"id": victim})
    else:
        _attacker_runs(engine, "DELETE FROM audit_log WHERE id = :id", {"id": victim})
    result = verify_chain(engine, ENTRIES, CHAIN)
    assert result.first_break is not None and result.first_break.seq == 4 and result.sealed == 3
    assert result.first_break.entry_id == victim
    assert ("changed after it was sealed" if tampering == "change" else "deleted") in result.first_break.reason
    assert dealgate(["audit", "verify", "--service", "deals", "--database-url", url]) == 1
    assert f"deals: BROKEN at seq 4: seq 4 (entry {victim})" in capsys.readouterr().out


def test_a_rewritten_link_and_a_removed_link_are_found_too(deals_db):
    _, engine = deals_db
    _write(engine, 6)
    AuditChain(engine, ENTRIES, CHAIN).seal_all()
    with engine.begin() as connection:  # the attacker recomputes nothing: a removed link leaves a gap
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE audit_chain DISABLE TRIGGER USER"))
            connection.execute(sa.text("DELETE FROM audit_chain WHERE seq = 2"))
            connection.execute(sa.text("ALTER TABLE audit_chain ENABLE TRIGGER USER"))
        else:
            connection.execute(sa.text("DROP TRIGGER audit_chain_no_delete"))
            connection.execute(sa.text("DELETE FROM audit_chain WHERE seq = 2"))
    result = verify_chain(engine, ENTRIES, CHAIN)
    assert result.first_break is not None and result.first_break.seq == 2 and "missing" in result.first_break.reason


def test_every_catalog_change_is_audited_with_who_and_the_correlation_id(database_url):
    """Through the HTTP API: drafts (which publish nothing) included."""
    upgrade_to_head(database_url, CATALOG_MIGRATIONS)
    settings = CatalogSettings.from_env(env={"CATALOG_DATABASE_URL": database_url})
    client = create_app({"SETTINGS": settings}).test_client()
    tokens = TokenService(settings.jwt_secret)
    admin = {"Authorization": "Bearer " + tokens.issue("admin", sub="admin:ines")}
    body = {"title": f"Audit {uuid.uuid4().hex[:6]}", "summary": "s", "vendor": "v", "category": "security",
            "tags": [], "offers": [{"name": "Std", "channels": ["reseller"], "regions": ["NA"],
                                    "pricing": {"model": "flat", "price": {"amount": "1.00", "currency": "USD"}}}]}
    created = client.post("/v1/listings", json=body, headers={**admin, "X-Correlation-ID": "corr-create-1"})
    listing = created.json["id"]
    client.patch(f"/v1/listings/{listing}", json={"title": "Renamed"},
                 headers={**admin, "If-Match": created.headers["ETag"]})
    client.post(f"/v1/listings/{listing}/publish", headers=admin)
    engine = create_engine(database_url)
    AuditChain(engine, catalog_tables.audit_log, catalog_tables.audit_chain).seal_all()
    desk = {"Authorization": "Bearer " + tokens.issue("desk")}
    page = client.get(f"/v1/audit?subject={listing}", headers=desk)
    assert page.status_code == 200, page.json
    items = page.json["items"]
    assert [item["action"] for item in items] == ["listing.drafted", "listing.draft_updated", "listing.published"]
    assert all(item["actor"] == {"subject": "admin:ines", "role": "admin"} for item in items)
    assert items[0]["correlation_id"] == "corr-create-1"
    assert items[-1]["details"] == {"status": "published", "version": 3}
    assert all(item["seq"] and len(item["hash"]) == 64 for item in items)
    assert items[1]["prev_hash"] == items[0]["hash"]
    partner = {"Authorization": "Bearer " + tokens.issue("partner", partner_id="p1")}
    assert client.get("/v1/audit", headers=partner).status_code == 403
    engine.dispose()


def test_a_commit_writes_its_outbox_rows_and_audit_entries_together_in_the_events_order(deals_db):
    """On PostgreSQL one statement carries both (a data-modifying CTE); on SQLite two. Same rows either way."""
    from shared.uow import SqlUnitOfWork
    from tests.unit.shared.messaging_fixtures import Note, note_events

    _, engine = deals_db
    events = [_event(f"order-{uuid.uuid4().hex[:8]}-{n}", status=f"s{n}") for n in range(5)]
    token = bind_actor("desk:jo", "desk")
    try:
        with SqlUnitOfWork(engine, outbox_table=deals_tables.outbox, new_events=note_events) as uow:
            uow.seen.add(Note([("deals.registrations.v1", event) for event in events]))
            uow.commit()
    finally:
        unbind_actor(token)
    wanted = [event.id for event in events]
    outbox = deals_tables.outbox
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.event_id, outbox.c.message_key, outbox.c.correlation_id)
                                  .where(outbox.c.event_id.in_(wanted)).order_by(outbox.c.id)).all()
        entries = connection.execute(sa.select(ENTRIES.c.event_id, ENTRIES.c.subject, ENTRIES.c.actor_subject,
                                               ENTRIES.c.correlation_id, ENTRIES.c.details)
                                     .where(ENTRIES.c.event_id.in_(wanted)).order_by(ENTRIES.c.id)).all()
    assert [r.event_id for r in rows] == wanted, "the relay publishes in id order: the events' own order"
    assert [r.message_key for r in rows] == [event.subject for event in events]
    assert [e.event_id for e in entries] == wanted and {e.actor_subject for e in entries} == {"desk:jo"}
    assert [e.correlation_id for e in entries] == [event.correlationid for event in events]
    assert [r.correlation_id for r in rows] == [event.correlationid for event in events]
    assert '"status":"s3"' in entries[3].details and "jo@example.com" not in entries[3].details


def test_a_sealer_looks_back_a_bounded_way_and_the_next_ones_first_sweep_seals_an_older_straggler(deals_db):
    """Rounds must not cost more as the log grows; an entry that commits far behind the head waits for a sweep."""
    from shared.audit import entry_row

    _, engine = deals_db
    sealer = AuditChain(engine, ENTRIES, CHAIN, straggler_lookback=3)
    _write(engine, 2)
    sealer.seal_all()
    with engine.begin() as connection:  # ids as a writer far ahead and a writer far behind would get them
        head_id = connection.execute(sa.select(sa.func.max(ENTRIES.c.id))).scalar_one()
        connection.execute(ENTRIES.insert(), [{**entry_row(_event("ahead")), "id": head_id + 100}])
    assert sealer.seal_all() == 1
    with engine.begin() as connection:
        connection.execute(ENTRIES.insert(), [{**entry_row(_event("straggler")), "id": head_id + 50}])
    assert sealer.seal_all() == 0, "50 ids behind the head is past this sealer's lookback of 3"
    assert verify_chain(engine, ENTRIES, CHAIN).unsealed == 1, "verify counts it meanwhile"
    assert AuditChain(engine, ENTRIES, CHAIN, straggler_lookback=3).seal_all() == 1, "a new sealer sweeps all once"
    result = verify_chain(engine, ENTRIES, CHAIN)
    assert result.intact and result.unsealed == 0
