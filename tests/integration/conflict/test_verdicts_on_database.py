"""Verdicts on the real stores (SQLite and PostgreSQL): blocking keys, key locks, queues and parallel consumers."""
import threading
import uuid

import pytest

from services.conflict import handlers
from services.conflict.bootstrap import MIGRATIONS
from services.conflict.overlaps import OverlapDetector
from services.conflict.storage.uow import SqlConflictUnitOfWork
from shared.db import create_engine, upgrade_to_head
from tests.unit.conflict.builders import RULES, deal, submitted, unique


@pytest.fixture
def engine(database_url):
    upgrade_to_head(database_url, MIGRATIONS)
    engine = create_engine(database_url, pool_size=8)
    yield engine
    engine.dispose()


def judge(engine, data, detector):
    with SqlConflictUnitOfWork(engine) as uow:
        handlers.on_deal_submitted(submitted(data), uow=uow, detector=detector, rules=RULES)
        uow.commit()


def published(engine) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    from services.conflict.storage.tables import outbox
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(outbox.c.event_type, outbox.c.message_key)
                                                     .order_by(outbox.c.id))]


def test_overlap_case_and_queue_figures_on_the_database(engine):
    product = unique("listing")
    customer = {"name": "Brightwater Logistik GmbH", "country": "DE", "domain": f"{unique('bw')}.de"}
    first = deal(customer=customer, products=[product])
    second = deal(channel="marketplace", customer={**customer, "name": "Brightwater Logistik"}, products=[product])
    detector = OverlapDetector()
    judge(engine, first, detector)
    judge(engine, second, detector)
    events = published(engine)
    assert [t for t, _ in events] == ["registration.cleared", "case.opened"]
    case_id = events[1][1]
    with SqlConflictUnitOfWork(engine) as uow:
        assert uow.registrations.get(first["id"]).case_id == case_id
    overview = {q["name"]: q for q in handlers.queue_overview(uow=SqlConflictUnitOfWork(engine), rules=RULES)}
    assert overview["marketplace-vs-reseller"]["open"] == 1
    assert overview["marketplace-vs-reseller"]["oldest_open_age_s"] >= 0
    handlers.claim_case(case_id, by="desk:it", uow=SqlConflictUnitOfWork(engine))
    resolved = handlers.resolve_case(case_id, decision="award", winner=first["id"], note="first", by="desk:it",
                                     uow=SqlConflictUnitOfWork(engine))
    assert resolved.resolution["outcomes"][second["id"]]["status"] == "rejected"
    assert [t for t, _ in published(engine)][-2:] == ["case.updated", "case.resolved"]


def test_a_new_process_rebuilds_its_index_and_finds_typos_through_it(engine):
    product = unique("listing")
    judge(engine, deal(customer={"name": "Marigold Instruments Ltd", "country": "GB"}, products=[product]),
          OverlapDetector())
    restarted = OverlapDetector()
    assert restarted.rebuild(lambda: SqlConflictUnitOfWork(engine)) >= 1
    judge(engine, deal(channel="direct", customer={"name": "Marigold Instrumnets", "country": "GB"},
                       products=[product]), restarted)
    assert published(engine)[-1][0] == "case.opened"


def test_parallel_consumers_with_their_own_indexes_open_exactly_one_case_per_overlapping_pair(engine):
    """Two threads stand in for two consumer processes: each has its own index and its own connections."""
    pairs = 12
    processes = [OverlapDetector(), OverlapDetector()]
    barrier = threading.Barrier(2)
    errors = []
    expected = []
    for n in range(pairs):
        product = unique("listing")
        name = f"Parallel {uuid.uuid4().hex[:6]} Works"
        expected.append((deal(customer={"name": f"{name} Ltd", "country": "NL",
                                        "domain": f"pw{n}-{uuid.uuid4().hex[:6]}.nl"},
                              products=[product]),
                         deal(channel="direct", customer={"name": name.upper(), "country": "NL",
                                                          "domain": ""}, products=[product])))

    def consume(side: int):
        try:
            for pair in expected:
                barrier.wait(timeout=30)
                for attempt in range(5):  # the consumer retries a transaction that lost a race, as EventConsumer does
                    try:
                        judge(engine, pair[side], processes[side])
                        break
                    except Exception:  # noqa: BLE001
                        if attempt == 4:
                            raise
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=consume, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    events = published(engine)
    by_deal = {}
    for event_type, key in events:
        by_deal.setdefault(key, []).append(event_type)
    opened = [key for event_type, key in events if event_type == "case.opened"]
    assert len(opened) == pairs, events
    with SqlConflictUnitOfWork(engine) as uow:
        for first, second in expected:
            a, b = uow.registrations.get(first["id"]), uow.registrations.get(second["id"])
            assert a.case_id and a.case_id == b.case_id, "both registrations of a pair share one case"


def test_a_verdict_holds_its_key_locks_until_it_commits(postgres_url):
    """PostgreSQL only: SQLite serialises every writer with BEGIN IMMEDIATE, so it needs no key locks."""
    import sqlalchemy as sa

    from services.conflict.storage.repository import lock_number
    upgrade_to_head(postgres_url, MIGRATIONS)
    engine = create_engine(postgres_url)
    data = deal(customer={"name": "Lockstep AS", "country": "NO", "tax_id": "NO 999 888 777"})
    detector = OverlapDetector()
    registration = handlers.TrackedRegistration.from_event(submitted(data).data)
    keys = detector.lock_keys(registration)
    assert keys == ["country:NO", "tax:999888777"]

    def free_elsewhere(key: str) -> bool:
        with engine.connect() as other:  # try-lock in a short transaction of its own, released at its end
            return other.execute(sa.text("SELECT pg_try_advisory_xact_lock(:n)"), {"n": lock_number(key)}).scalar()

    with SqlConflictUnitOfWork(engine) as uow:
        uow.locks.acquire(keys)
        assert not free_elsewhere("country:NO") and not free_elsewhere("tax:999888777")
        assert free_elsewhere("country:SE"), "only the verdict's own keys are locked"
        uow.commit()
    assert free_elsewhere("country:NO"), "the commit releases them"
    engine.dispose()


def test_two_consumers_batches_in_opposite_order_take_their_locks_together_and_never_deadlock(postgres_url):
    """PostgreSQL: batch A judges a Norwegian then a Swedish customer, batch B the reverse, at the same moment.

    Taking each verdict's locks as it comes, A would hold country:NO waiting for SE while B holds SE waiting for
    NO, and PostgreSQL would abort one batch (a deadlock). batch_locks takes the whole batch's keys at once.
    """
    upgrade_to_head(postgres_url, MIGRATIONS)
    engine = create_engine(postgres_url, pool_size=4)
    detector = OverlapDetector()
    norway = [submitted(deal(customer={"name": f"Fjord {unique('n')} AS", "country": "NO"})) for _ in range(2)]
    sweden = [submitted(deal(customer={"name": f"Skog {unique('s')} AB", "country": "SE"})) for _ in range(2)]
    first_verdicts_done = threading.Barrier(2, timeout=3)
    errors: list[BaseException] = []
    rendezvous: list[bool] = []

    def consume(batch):
        try:
            with SqlConflictUnitOfWork(engine) as uow:
                handlers.batch_locks(detector)(batch, uow)
                for position, event in enumerate(batch):
                    handlers.on_deal_submitted(event, uow=uow, detector=detector, rules=RULES)
                    if position == 0:
                        try:  # both batches past their first verdict at once is what deadlocks
                            first_verdicts_done.wait()
                            rendezvous.append(True)
                        except threading.BrokenBarrierError:
                            rendezvous.append(False)
                uow.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=consume, args=([norway[0], sweden[0]],)),
               threading.Thread(target=consume, args=([sweden[1], norway[1]],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert rendezvous == [False, False], "the second batch waited for the first one's commit at its start"
    judged = {e.data["id"] for e in norway + sweden}
    with SqlConflictUnitOfWork(engine) as uow:
        assert all(uow.registrations.get(deal_id) is not None for deal_id in judged)
    engine.dispose()


def test_a_key_crowded_with_older_registrations_does_not_hide_a_rarer_keys_match(engine):
    """Another process filed a registration under a rare key; a hot key's newer rows must not push it out."""
    import datetime as dt

    from services.conflict.domain.model import TrackedRegistration

    rare = deal(customer={"name": "Quietfield Ltd", "country": "GB", "domain": f"{unique('quiet')}.co.uk"})
    now = dt.datetime.now(dt.UTC)
    with SqlConflictUnitOfWork(engine) as uow:
        uow.registrations.add(TrackedRegistration.from_event(submitted(rare).data),
                              keys=["dom:rare-example.co.uk", "tok:crowded"], recorded_at=now)
        for n in range(120):  # newer registrations, all under the crowded key only
            crowd = deal(customer={"name": f"Crowd {n} Ltd", "country": "GB"})
            uow.registrations.add(TrackedRegistration.from_event(submitted(crowd).data), keys=["tok:crowded"],
                                  recorded_at=now + dt.timedelta(seconds=n + 1))
        uow.commit()
    with SqlConflictUnitOfWork(engine) as uow:
        found = uow.registrations.ids_by_keys(["tok:crowded", "dom:rare-example.co.uk"], per_key=50)
    assert rare["id"] in found
    assert len(found) == 51, "the crowded key gives its newest 50, the rare key its one"
