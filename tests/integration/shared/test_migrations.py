"""Every service's Alembic migrations build its schema on PostgreSQL and on SQLite, and step back down."""
from importlib import import_module

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shared.db import create_engine, normalise_url, upgrade_to_head

SERVICES = ("catalog", "deals", "conflict")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_tables_the_code_maps(service, database_url):
    migrations = import_module(f"services.{service}.bootstrap").MIGRATIONS
    upgrade_to_head(database_url, migrations)
    upgrade_to_head(database_url, migrations)  # a second run is a no-op
    engine = create_engine(database_url)
    metadata = import_module(f"services.{service}.storage.tables").metadata
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, f"{table.name} drifted from its migration"
    engine.dispose()

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url))
    command.downgrade(config, "base")
    assert set(sa.inspect(create_engine(database_url)).get_table_names()) <= {"alembic_version"}
