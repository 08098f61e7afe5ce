"""A deals app on a fresh PostgreSQL database, with a published listing in its catalog read model."""
from __future__ import annotations

import dataclasses
import uuid

import pytest

from services.deals.app import create_app
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.settings import DealsSettings
from shared.auth import TokenService
from shared.db import upgrade_to_head
from tests.integration.deals.builders import published_listing


@dataclasses.dataclass
class DealsOnPostgres:
    deals: object
    client: object
    product: str

    def bearer(self, role: str = "partner", **claims) -> dict:
        if role in ("partner", "marketplace"):
            claims.setdefault("partner_id", f"it-{uuid.uuid4().hex[:8]}")
        return {"Authorization": "Bearer " + TokenService(self.deals.settings.jwt_secret).issue(role, **claims)}


@pytest.fixture
def deals_settings(postgres_url) -> DealsSettings:
    upgrade_to_head(postgres_url, MIGRATIONS)
    return DealsSettings.from_env(env={}, database_url=postgres_url, relay_doorbell=None,
                             kafka_bootstrap_servers="127.0.0.1:1")


@pytest.fixture
def deals_app(deals_settings) -> DealsOnPostgres:
    deals = bootstrap(deals_settings)
    listing = published_listing()
    with deals.uow_factory() as uow:
        uow.catalog.upsert(listing)
        uow.commit()
    app = create_app({"SETTINGS": deals_settings, "TESTING": True}, deals=deals)
    yield DealsOnPostgres(deals=deals, client=app.test_client(), product=listing["id"])
    deals.engine.dispose()
