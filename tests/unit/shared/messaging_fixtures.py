"""A minimal service (one `effects` table + outbox + inbox) to exercise the shared messaging machinery."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from shared.db import create_engine
from shared.events import CloudEvent
from shared.inbox import define_inbox_table
from shared.outbox import dead_table_of, define_outbox_table
from shared.uow import SqlUnitOfWork

metadata = sa.MetaData()
effects = sa.Table("effects", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                   sa.Column("subject", sa.String(100), nullable=False))
outbox = define_outbox_table(metadata)
outbox_dead = dead_table_of(outbox)
inbox = define_inbox_table(metadata)


@dataclasses.dataclass
class Note:
    """The smallest aggregate: it has recorded the (topic, event) pairs it was made with."""

    events: list[tuple[str, CloudEvent]]


def note_events(note: Note) -> list[tuple[str, CloudEvent]]:
    recorded, note.events = note.events, []
    return recorded


class ExampleUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine, doorbell=None):
        super().__init__(engine, outbox_table=outbox, inbox_table=inbox, new_events=note_events, doorbell=doorbell)

    def record(self, topic: str, event: CloudEvent) -> None:
        """As a repository does when it stores an aggregate: commit() publishes what the note recorded."""
        self.seen.add(Note([(topic, event)]))


def make_engine(url: str):
    engine = create_engine(url)
    metadata.create_all(engine)  # a test-only schema; the services' schemas come from Alembic
    return engine


def record_effect(event, *, uow):
    uow.connection.execute(effects.insert().values(subject=event.subject))


def effect_count(engine, subject: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(effects)
    if subject:
        query = query.where(effects.c.subject == subject)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()
