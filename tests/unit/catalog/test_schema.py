"""The catalog's migrated schema holds what the catalog uses: no inbox, since it consumes no events."""
import sqlalchemy as sa

from services.catalog.bootstrap import MIGRATIONS
from services.catalog.storage import tables
from shared.db import create_engine, upgrade_to_head


def test_migrations_create_the_tables_the_code_uses_and_no_inbox(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_to_head(url, MIGRATIONS)
    engine = create_engine(url)
    try:
        present = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "processed_events" not in present
    assert set(tables.metadata.tables) <= present
