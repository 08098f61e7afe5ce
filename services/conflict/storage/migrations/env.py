"""Alembic environment for the conflict database."""
from alembic import context

from services.conflict.storage.tables import metadata
from shared.db import create_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:  # shared.db.upgrade_to_head always sets it
    raise RuntimeError("alembic's sqlalchemy.url is not set")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
