"""The audit trail: an append-only log per service of every state change, who made it, when and under which
correlation id, sealed into a hash chain that shows any later rewrite.

Every state change records an event, so the unit of work appends one `audit_log` entry per event it puts into the
outbox, in the same transaction (nothing changes without its entry, no entry without its change). Appending
reads nothing, so writers never wait on each other for the chain. Sealing comes after: a sealer (the relay
process runs one every SEAL_INTERVAL_S; `GET /v1/audit` and `dealgate audit verify` read what is sealed by then)
takes the entries not yet in `audit_chain` in id order and gives each the next sequence number and
hash = SHA-256(previous hash, the entry's canonical fields). One sealer at a time (a PostgreSQL advisory lock),
batch by batch, never inside a service's own transactions.

Both tables refuse UPDATE and DELETE (triggers on PostgreSQL and on SQLite; TRUNCATE too on PostgreSQL), so an
application bug or a stolen application credential cannot rewrite the record. Someone who can drop or disable
the triggers can, but `verify` then finds the first entry whose hash no longer follows: a changed field, a
removed entry, a gap in the sequence or a rewritten link.

Entries hold no personal data (a registration's contact may be erased later, and this log can never be): the
aggregate's id, the event type, a few state fields (DETAIL_KEYS) and who did it.
"""
from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from shared.clock import utcnow
from shared.events import CloudEvent
from shared.logging import current_correlation_id

log = structlog.get_logger(__name__)
LOG_TABLE = "audit_log"
CHAIN_TABLE = "audit_chain"
GENESIS_HASH = "0" * 64
SEAL_BATCH = 2000
SEAL_INTERVAL_S = 1.0
# pg_advisory_xact_lock key of the one sealer at a time (any constant unique among the service's advisory locks).
SEAL_LOCK_KEY = 0x6175646974  # "audit"
# State fields copied from an event's data into its entry: what changed, never who the customer's contact is.
DETAIL_KEYS = ("status", "version", "outcome", "decision", "winner", "queue", "priority", "case_ref",
               "merged_into", "decided_by", "erased", "claimed_by", "deal_id")
MEMBERS_KEPT = 50
SYSTEM_ROLE = "system"

_actor: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("dealgate_audit_actor", default=None)


def define_audit_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    entries = sa.Table(
        LOG_TABLE, metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),  # the aggregate the change is about (event subject)
        sa.Column("action", sa.String(100), nullable=False),   # the event type
        sa.Column("actor_subject", sa.String(255), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("correlation_id", sa.String(100)),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("details", sa.Text, nullable=False),  # canonical JSON, hashed as stored
        sa.Index("ix_audit_log_subject", "subject", "id"),
        sa.Index("ix_audit_log_actor", "actor_subject", "id"),
    )
    chain = sa.Table(
        CHAIN_TABLE, metadata,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False, unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    return entries, chain


def audit_tables_of(table: sa.Table) -> tuple[sa.Table, sa.Table] | None:
    """The audit tables defined beside `table` (a service's outbox), if its service keeps an audit trail."""
    tables = table.metadata.tables if table.metadata is not None else {}
    if LOG_TABLE in tables and CHAIN_TABLE in tables:
        return tables[LOG_TABLE], tables[CHAIN_TABLE]
    return None


# -- who acts -------------------------------------------------------------------------------------------------------

def bind_actor(subject: str, role: str) -> contextvars.Token[tuple[str, str] | None]:
    """Who makes the changes from here on in this context (the HTTP layer binds the token's sub and role)."""
    return _actor.set((subject, role))


def unbind_actor(token: contextvars.Token[tuple[str, str] | None] | None = None) -> None:
    if token is not None:
        _actor.reset(token)
    else:
        _actor.set(None)


def current_actor(event: CloudEvent | None = None) -> tuple[str, str]:
    """The bound actor; otherwise the service itself acting on what it consumed or on its own schedule."""
    bound = _actor.get()
    if bound is not None:
        return bound
    return (f"system:{event.source}" if event is not None else "system", SYSTEM_ROLE)


# -- appending (in the state change's own transaction) --------------------------------------------------------------

def entry_row(event: CloudEvent, *, now: dt.datetime | None = None) -> dict[str, Any]:
    actor_subject, actor_role = current_actor(event)
    details = {key: event.data[key] for key in DETAIL_KEYS
               if key in event.data and isinstance(event.data[key], (str, int, float, bool, list, type(None)))}
    resolution = event.data.get("resolution")
    if isinstance(resolution, dict):  # a case's decision, and by whom
        details.update({f"resolution.{key}": resolution[key] for key in ("decision", "winner", "decided_by", "by")
                        if isinstance(resolution.get(key), (str, type(None))) and key in resolution})
    members = event.data.get("members")
    if isinstance(members, list):  # which registrations of a case the change touched
        details["deal_ids"] = [m["deal_id"] for m in members[:MEMBERS_KEPT] if isinstance(m, dict) and "deal_id" in m]
    return {"recorded_at": now or utcnow(), "subject": event.subject[:200], "action": event.type[:100],
            "actor_subject": actor_subject[:255], "actor_role": actor_role[:32],
            "correlation_id": (event.correlationid or current_correlation_id() or None),
            "event_id": event.id, "details": _canonical(details)}


def append_entries(connection: Connection, entries: sa.Table, events: Iterable[CloudEvent]) -> int:
    """One entry per event, in the caller's transaction: an INSERT, no read, so no writer waits on another."""
    now = utcnow()
    rows = [entry_row(event, now=now) for event in events]
    if rows:
        connection.execute(entries.insert(), rows)
    return len(rows)


def append_entries_with_outbox(connection: Connection, outbox: sa.Table, rows: list[dict[str, Any]],
                               entries: sa.Table, events: list[CloudEvent]) -> None:
    """Outbox rows and their events' audit entries in ONE statement on PostgreSQL, a data-modifying CTE: every
    write of every service (each submission, each verdict) pays one round trip for both instead of two."""
    now = utcnow()
    audit = [entry_row(event, now=now) for event in events]
    connection.execute(_outbox_and_audit_statement(outbox, entries), {
        **{f"o_{column}": [row[column] for row in rows] for column in _OUTBOX_COLUMNS},
        **{f"a_{column}": [row[column] for row in audit] for column in _ENTRY_COLUMNS}})


_OUTBOX_COLUMNS = {"event_id": "text", "topic": "text", "message_key": "text", "event_type": "text", "payload": "text",
                   "correlation_id": "text", "created_at": "timestamptz"}
_ENTRY_COLUMNS = {"recorded_at": "timestamptz", "subject": "text", "action": "text", "actor_subject": "text",
                  "actor_role": "text", "correlation_id": "text", "event_id": "text", "details": "text"}


def _unnest(prefix: str, columns: dict[str, str]) -> str:
    """Parallel arrays back into rows, in the order given (WITH ORDINALITY), so ids follow the events' order."""
    arrays = ", ".join(f"CAST(:{prefix}_{name} AS {kind}[])" for name, kind in columns.items())
    names = ", ".join(columns)
    # only this module's constant column names go into the text; the values are bound parameters
    return f"SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS given({names}, position) ORDER BY position"  # noqa: S608


@functools.cache
def _outbox_and_audit_statement(outbox: sa.Table, entries: sa.Table) -> sa.TextClause:
    return sa.text(
        f"WITH outboxed AS (INSERT INTO {outbox.name} ({', '.join(_OUTBOX_COLUMNS)}) {_unnest('o', _OUTBOX_COLUMNS)}) "
        f"INSERT INTO {entries.name} ({', '.join(_ENTRY_COLUMNS)}) {_unnest('a', _ENTRY_COLUMNS)}")


# -- sealing (after, in batches, one sealer at a time) ---------------------------------------------------------------

def entry_hash(prev_hash: str, seq: int, entry: Any) -> str:
    """The link: SHA-256 over the previous hash, the sequence number and every field of the entry."""
    fields = [seq, entry.id, _iso(entry.recorded_at), entry.subject, entry.action, entry.actor_subject,
              entry.actor_role, entry.correlation_id, entry.event_id, entry.details]
    return hashlib.sha256((prev_hash + "\n" + _canonical(fields)).encode()).hexdigest()


class AuditChain:
    def __init__(self, engine: Engine, entries: sa.Table, chain: sa.Table, *,
                 straggler_lookback: int | None = None):
        self._engine = engine
        self._lookback = STRAGGLER_LOOKBACK if straggler_lookback is None else straggler_lookback
        self._entries = entries
        self._chain = chain
        # The first round (seal_all) of a sealer looks through the whole log once, for any straggler an earlier
        # process left; after that only the last STRAGGLER_LOOKBACK ids.
        self._swept = False

    def seal(self, batch_size: int = SEAL_BATCH) -> int:
        """Seal up to `batch_size` pending entries; how many were sealed (0 when another sealer had the turn)."""
        entries, chain = self._entries, self._chain
        try:
            with self._engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SEAL_LOCK_KEY)))
                head = connection.execute(sa.select(chain.c.seq, chain.c.hash, chain.c.entry_id)
                                          .order_by(chain.c.seq.desc()).limit(1)).first()
                seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
                floor = max(0, (head.entry_id if head else 0) - self._lookback) if self._swept else 0
                # The floor bounds both sides of the anti-join: with it only on the log, PostgreSQL hashed the
                # whole chain on every round (370 ms at 190,000 entries, every second, growing without end).
                pending = connection.execute(
                    sa.select(entries).where(~sa.exists().where(chain.c.entry_id == entries.c.id,
                                                                chain.c.entry_id > floor))
                    .where(entries.c.id > floor)
                    .order_by(entries.c.id).limit(batch_size)).all()
                if not pending:
                    return 0
                now = utcnow()
                links = []
                for entry in pending:
                    seq += 1
                    digest = entry_hash(prev_hash, seq, entry)
                    links.append({"seq": seq, "entry_id": entry.id, "prev_hash": prev_hash, "hash": digest,
                                  "sealed_at": now})
                    prev_hash = digest
                # An executemany, which SQLAlchemy sends as multi-row INSERTs (insertmanyvalues) from one cached
                # compilation: a VALUES list built per round was compiled anew each time (a fifth of the conflict
                # relay's busy samples in py-spy).
                connection.execute(chain.insert(), links)
                return len(links)
        except sa.exc.IntegrityError:  # SQLite has no advisory lock: two sealers raced for a sequence number
            return 0

    def seal_all(self) -> int:
        total = 0
        while sealed := self.seal():
            total += sealed
        self._swept = True
        return total

    def keep_sealing(self, stop: threading.Event, interval_s: float = SEAL_INTERVAL_S) -> None:
        """A background thread's loop (the relay process runs one): seal what was appended, until stopped."""
        while not stop.is_set():
            try:
                self.seal_all()
            except sa.exc.SQLAlchemyError as exc:  # the database is away: try again on the next round
                log.warning("audit.seal_failed", error=str(exc)[:200])
            stop.wait(interval_s)


# Ids are handed out at INSERT and become visible at COMMIT, so an entry may commit after later ids were sealed.
# Every writer's transaction is short (a request, a consumer's batch, an import batch), so a straggler is at most
# a few hundred ids behind; looking further back costs every round. One left further behind is sealed by the next
# sealer's first, whole sweep, and `verify` counts it as unsealed meanwhile.
STRAGGLER_LOOKBACK = 10_000


# -- verifying -------------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ChainBreak:
    seq: int
    entry_id: int | None
    reason: str


@dataclasses.dataclass(frozen=True)
class Verification:
    sealed: int
    unsealed: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify_chain(engine: Engine, entries: sa.Table, chain: sa.Table, *, page: int = 5000) -> Verification:
    """Walk the whole chain in sequence order and recompute every link; stop at the first that does not hold."""
    prev_hash, expected_seq, sealed = GENESIS_HASH, 1, 0
    for link, entry in _links(engine, entries, chain, page):
        where = f"seq {link.seq} (entry {link.entry_id})"
        if link.seq != expected_seq:
            return _broken(sealed, engine, entries, chain, prev_hash, ChainBreak(
                expected_seq, None, f"seq {expected_seq} is missing (the next link is seq {link.seq}): "
                                    "a sealed link was removed"))
        if link.prev_hash != prev_hash:
            return _broken(sealed, engine, entries, chain, prev_hash, ChainBreak(
                link.seq, link.entry_id, f"{where}: its previous-hash does not match the hash of seq "
                                         f"{link.seq - 1}: the chain was rewritten here"))
        if entry is None:
            return _broken(sealed, engine, entries, chain, prev_hash, ChainBreak(
                link.seq, link.entry_id, f"{where}: the entry is gone: it was deleted after it was sealed"))
        if entry_hash(prev_hash, link.seq, entry) != link.hash:
            return _broken(sealed, engine, entries, chain, prev_hash, ChainBreak(
                link.seq, link.entry_id, f"{where}: the entry no longer matches its hash: it was changed after "
                                         "it was sealed"))
        prev_hash, expected_seq, sealed = link.hash, expected_seq + 1, sealed + 1
    return Verification(sealed=sealed, unsealed=_unsealed(engine, entries, chain), head_hash=prev_hash,
                        first_break=None)


def _broken(sealed: int, engine: Engine, entries: sa.Table, chain: sa.Table, prev_hash: str,
            first_break: ChainBreak) -> Verification:
    return Verification(sealed=sealed, unsealed=_unsealed(engine, entries, chain), head_hash=prev_hash,
                        first_break=first_break)


def _links(engine: Engine, entries: sa.Table, chain: sa.Table, page: int) -> Iterator[tuple[Any, Any]]:
    after = 0
    entry_columns = list(entries.columns)
    names = [column.name for column in entry_columns]
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(chain.c.seq, chain.c.entry_id, chain.c.prev_hash, chain.c.hash,
                          entries.c.id.label("found_id"), *[c.label(f"e_{c.name}") for c in entry_columns])
                .select_from(chain.outerjoin(entries, entries.c.id == chain.c.entry_id))
                .where(chain.c.seq > after).order_by(chain.c.seq).limit(page)).all()
        if not rows:
            return
        for row in rows:
            entry = None
            if row.found_id is not None:
                entry = _Entry(**{name: getattr(row, f"e_{name}") for name in names})
            yield row, entry
        after = rows[-1].seq


@dataclasses.dataclass(frozen=True)
class _Entry:
    id: int
    recorded_at: dt.datetime
    subject: str
    action: str
    actor_subject: str
    actor_role: str
    correlation_id: str | None
    event_id: str
    details: str


def _unsealed(engine: Engine, entries: sa.Table, chain: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(entries).where(
            ~sa.exists().where(chain.c.entry_id == entries.c.id))).scalar_one())


# -- reading ---------------------------------------------------------------------------------------------------------

def read_entries(engine: Engine, entries: sa.Table, chain: sa.Table, *, subject: str | None = None,
                 actor: str | None = None, after_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Entries oldest first (by id), each with its seal (seq, hash, prev_hash) once sealed."""
    query = (sa.select(entries, chain.c.seq, chain.c.hash, chain.c.prev_hash)
             .select_from(entries.outerjoin(chain, chain.c.entry_id == entries.c.id))
             .order_by(entries.c.id).limit(limit))
    if subject is not None:
        query = query.where(entries.c.subject == subject)
    if actor is not None:
        query = query.where(entries.c.actor_subject == actor)
    if after_id is not None:
        query = query.where(entries.c.id > after_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [{"id": row.id, "recorded_at": _iso(row.recorded_at), "subject": row.subject, "action": row.action,
             "actor": {"subject": row.actor_subject, "role": row.actor_role},
             "correlation_id": row.correlation_id, "event_id": row.event_id, "details": json.loads(row.details),
             "seq": row.seq, "hash": row.hash, "prev_hash": row.prev_hash} for row in rows]


# -- the tables' guard ------------------------------------------------------------------------------------------------

def append_only_statements(dialect: str, table: str) -> list[str]:
    """DDL that makes `table` refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)."""
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dealgate_audit_refuse_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION dealgate_audit_refuse_change()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    ]


REFUSE_FUNCTION_POSTGRESQL = """
CREATE OR REPLACE FUNCTION dealgate_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(value: dt.datetime) -> str:
    """One spelling for a stored instant whichever database returns it (SQLite gives it back without a zone)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
