"""Conflict migration 0006 files active registrations again under the keys the current matcher gives them."""
import datetime as dt

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from services.conflict.bootstrap import MIGRATIONS
from services.conflict.domain.model import TrackedRegistration
from services.conflict.overlaps import OverlapDetector
from services.conflict.storage.tables import registration_keys, registrations
from shared.db import create_engine
from tests.unit.conflict.builders import deal


def _migrate(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, revision)


def test_active_registrations_get_the_current_keys_and_ended_ones_are_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'conflict.db'}"
    _migrate(url, "0005")
    active = deal(customer={"name": "Halma North America Inc", "country": "US"})
    ended = deal(customer={"name": "Halma Europe Ltd", "country": "GB"}, status="withdrawn")
    recorded = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)
    engine = create_engine(url)
    with engine.begin() as connection:
        for data in (active, ended):
            tracked = TrackedRegistration.from_event(data)
            connection.execute(registrations.insert().values(
                deal_id=tracked.deal_id, partner_id=tracked.partner_id, status=tracked.status, case_id=None,
                recorded_at=recorded, document=tracked.to_dict()))
            connection.execute(registration_keys.insert().values(key="name:stale", deal_id=tracked.deal_id,
                                                                 recorded_at=recorded))
    _migrate(url, "head")
    with engine.connect() as connection:
        filed = {deal_id: set() for deal_id in (active["id"], ended["id"])}
        for row in connection.execute(sa.select(registration_keys.c.deal_id, registration_keys.c.key)):
            filed[row.deal_id].add(row.key)
    engine.dispose()
    expected = set(OverlapDetector().blocking_keys(TrackedRegistration.from_event(active)))
    assert filed[active["id"]] == expected and "name:stale" not in expected
    assert filed[ended["id"]] == {"name:stale"}
