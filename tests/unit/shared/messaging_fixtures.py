"""A minimal service (one `effects` table + outbox + inbox) to exercise the shared messaging machinery."""
from __future__ import annotations

import sqlalchemy as sa

from shared.db import create_engine
from shared.inbox import define_inbox_table
from shared.outbox import define_outbox_table
from shared.uow import SqlUnitOfWork

metadata = sa.MetaData()
effects = sa.Table("effects", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                   sa.Column("subject", sa.String(100), nullable=False))
outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)


class ExampleUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine, doorbell=None):
        super().__init__(engine, outbox_table=outbox, inbox_table=inbox, source="/test", doorbell=doorbell)


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
