"""The catalog's read side: full-text search with filters and keyset pages, and the current catalog revision.

Each search is one SQL statement that also returns the catalog revision, so the page and the revision always
come from the same snapshot (PostgreSQL's READ COMMITTED snapshots per statement; SQLite per transaction).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from services.catalog.domain.search import FIELD_WEIGHTS, ListingQuery, Viewer
from services.catalog.storage.tables import catalog_revision, listings, offer_reach
from shared.db import normalise_url

# Must stay identical to the indexed expression of migration 0002, or PostgreSQL cannot use the GIN index.
PG_SEARCH_VECTOR = ("setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
                    "setweight(to_tsvector('simple'::regconfig, search_tags), 'B') || "
                    "setweight(to_tsvector('simple'::regconfig, search_summary), 'C')")
_PG_WEIGHTS = {"title": "A", "tags": "B", "summary": "C"}
_FTS_COLUMNS = {"title": "search_title", "tags": "search_tags", "summary": "search_summary"}


@dataclasses.dataclass(frozen=True)
class FoundListing:
    document: dict[str, Any]
    score: int
    seq: int


def create_read_engine(database_url: str, write_engine: Engine) -> Engine:
    """PostgreSQL reads share the write engine. SQLite gets its own read-only engine: the write engine starts
    every transaction with BEGIN IMMEDIATE (taking the write lock), which would make readers queue behind
    one another; in WAL mode a plain statement reads a consistent snapshot without any lock."""
    url = normalise_url(database_url)
    if not url.startswith("sqlite"):
        return write_engine
    if url.split("///", 1)[-1] in ("", ":memory:"):
        return write_engine  # a private in-memory database exists only on the writer's connection
    Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    # Like shared.db.create_engine: a statement's parameters never appear in an error's text.
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # autocommit: each statement is its own snapshot
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


class ListingReader:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def revision(self) -> int:
        # On the DB-API connection directly: this runs on every read, including every 304, and SQLAlchemy's
        # statement machinery would cost more than the query itself.
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(_REVISION_SQL)
            revision = cursor.fetchone()[0]  # type: ignore[index]  # the row with id = 1 always exists
            cursor.close()
        finally:
            connection.close()
        return int(revision)

    def get(self, listing_id: str) -> dict[str, Any] | None:
        with self._engine.connect() as connection:
            return connection.execute(
                sa.select(listings.c.document).where(listings.c.id == listing_id)).scalar_one_or_none()

    def search(self, query: ListingQuery, viewer: Viewer) -> tuple[int, list[FoundListing]]:
        """The catalog revision and up to `query.limit` listings, best match first, then newest first."""
        page = self._page_statement(query, viewer).subquery("page")
        statement = (sa.select(catalog_revision.c.revision, page.c.document, page.c.score, page.c.seq)
                     .select_from(catalog_revision.outerjoin(page, sa.true()))
                     .where(catalog_revision.c.id == 1)
                     .order_by(page.c.score.desc(), page.c.seq.desc()))
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        found = [FoundListing(row.document, int(row.score), int(row.seq)) for row in rows if row.seq is not None]
        return int(rows[0].revision), found

    def _page_statement(self, query: ListingQuery, viewer: Viewer) -> sa.Select:
        score = self._score(query.terms) if query.terms else sa.literal(0)
        inner = sa.select(listings.c.document, listings.c.seq, score.label("score"))
        if not viewer.sees_everything:
            inner = inner.where(listings.c.status == "published")
        if query.status:
            inner = inner.where(listings.c.status == query.status)
        if query.category:
            inner = inner.where(listings.c.category == query.category)
        if query.terms:
            inner = inner.where(self._matches(query.terms, field=None))
        if not viewer.sees_everything or query.channel or query.region:
            # Channel and region must hold on one and the same offer, and that offer must be the viewer's to see.
            reach = sa.select(offer_reach.c.listing_id).where(offer_reach.c.listing_id == listings.c.id)
            if not viewer.sees_everything:
                reach = reach.where(offer_reach.c.audience.in_(viewer.audiences))
            if query.channel:
                reach = reach.where(offer_reach.c.channel == query.channel)
            if query.region:
                reach = reach.where(offer_reach.c.region == query.region)
            inner = inner.where(reach.exists())
        matching = inner.subquery("matching")
        outer = sa.select(matching.c.document, matching.c.seq, matching.c.score)
        if query.after:
            after_score, after_seq = query.after
            outer = outer.where(sa.or_(matching.c.score < after_score,
                                       sa.and_(matching.c.score == after_score, matching.c.seq < after_seq)))
        return outer.order_by(matching.c.score.desc(), matching.c.seq.desc()).limit(query.limit)

    def _score(self, terms: tuple[str, ...]) -> sa.ColumnElement:
        """Relevance, the same on both databases: FIELD_WEIGHTS summed over the fields that hold every term."""
        parts = [sa.case((self._matches(terms, field=field), weight), else_=0)
                 for field, weight in FIELD_WEIGHTS.items()]
        return parts[0] + parts[1] + parts[2]

    def _matches(self, terms: tuple[str, ...], *, field: str | None) -> sa.ColumnElement:
        """Every term is a prefix of some word (in `field`, or anywhere when field is None)."""
        if self._postgres:
            weight = _PG_WEIGHTS[field] if field else ""
            tsquery = " & ".join(f"'{term}':*{weight}" for term in terms)
            return sa.literal_column(f"({PG_SEARCH_VECTOR})").op("@@")(
                sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.literal(tsquery)))
        expression = " AND ".join(f'"{term}"*' for term in terms)
        if field:
            expression = f"{_FTS_COLUMNS[field]} : ({expression})"
        matching = sa.text("SELECT rowid FROM listings_fts WHERE listings_fts MATCH :expression") \
            .bindparams(sa.bindparam("expression", expression, unique=True)).columns(sa.column("rowid"))
        return listings.c.seq.in_(matching.scalar_subquery())


_REVISION_SQL = "SELECT revision FROM catalog_revision WHERE id = 1"
