"""Every service's Alembic migrations build its schema on PostgreSQL and on SQLite, and step back down."""
import os
import subprocess
import sys
from importlib import import_module

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from deploy.stack import REPO
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


def test_three_replicas_migrating_one_fresh_database_at_once_leave_one_history_and_no_error(postgres_url, tmp_path):
    """Replicas start together and each runs the migrations first: the lock makes the others wait, then find the
    schema at head (without it they race to create alembic_version and the tables, and all but one fail)."""
    env = {**os.environ, "DEALS_DATABASE_URL": postgres_url, "DEALGATE_LOG_FORMAT": "console"}
    logs = [tmp_path / f"migrate-{n}.log" for n in range(3)]
    processes = []
    for log in logs:
        with open(log, "wb") as out:
            processes.append(subprocess.Popen([sys.executable, "-m", "services.deals.workers.migrate"], env=env,
                                              cwd=REPO, stdout=out, stderr=subprocess.STDOUT))
    codes = [process.wait(timeout=120) for process in processes]
    assert codes == [0, 0, 0], "\n".join(log.read_text()[-2000:] for log in logs)
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    config = Config()
    config.set_main_option("script_location", str(import_module("services.deals.bootstrap").MIGRATIONS))
    assert versions == [ScriptDirectory.from_config(config).get_current_head()]
