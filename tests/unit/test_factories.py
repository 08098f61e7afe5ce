"""Each service's app factory builds a working app from configuration alone (as in Flask's flaskr tutorial)."""
import pytest

from services.catalog.app import create_app as create_catalog
from services.catalog.settings import CatalogSettings
from services.conflict.app import create_app as create_conflict
from services.conflict.settings import ConflictSettings
from services.deals.app import create_app as create_deals
from services.deals.settings import DealsSettings
from shared.config import Settings

SETTINGS_OF: dict[str, type[Settings]] = {"catalog": CatalogSettings, "deals": DealsSettings,
                                          "conflict": ConflictSettings}

FACTORIES = {"catalog": create_catalog, "deals": create_deals, "conflict": create_conflict}


@pytest.mark.parametrize("service", FACTORIES)
def test_factory_builds_an_app_with_probes_and_openapi(service, tmp_path):
    settings = SETTINGS_OF[service].from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)})
    app = FACTORIES[service]({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    assert app.testing
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json["status"] == "ok" and health.json["service"] == service
    assert set(health.json["detail"]) == {"kafka"}
    document = client.get("/openapi.json").json
    assert document["info"]["title"].startswith("Dealgate")
    assert any(path.startswith("/v1/") for path in document["paths"])
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize("service", FACTORIES)
def test_readiness_is_the_database_alone_and_kafka_is_health_detail(service, tmp_path):
    # Nothing listens on port 1: Kafka is away while the database is fine. The outbox keeps taking writes, so the
    # service stays ready (a load balancer must not drop every instance); /healthz and /metrics say Kafka is away.
    settings = SETTINGS_OF[service].from_env(env={"DEALGATE_VAR_DIR": str(tmp_path),
                                                  "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    from importlib import import_module

    from shared.db import upgrade_to_head

    upgrade_to_head(settings.database_url, import_module(f"services.{service}.bootstrap").MIGRATIONS)
    client = FACTORIES[service]({"SETTINGS": settings}).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok"}
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert health.json["detail"]["kafka"].startswith("failed")
    assert "dealgate_kafka_up 0.0" in client.get("/metrics").text


@pytest.mark.parametrize("service", FACTORIES)
def test_without_its_database_a_service_is_not_ready(service, tmp_path):
    settings = SETTINGS_OF[service].from_env(env={
        "DEALGATE_VAR_DIR": str(tmp_path), f"{service.upper()}_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/none"})
    ready = FACTORIES[service]({"SETTINGS": settings}).test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("failed")


def test_creating_an_app_does_not_touch_the_network_or_disk(tmp_path):
    settings = DealsSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path / "nowhere")})
    create_deals({"SETTINGS": settings})
    assert not (tmp_path / "nowhere" / "deals.db").exists()


@pytest.mark.parametrize("service", FACTORIES)
def test_metrics_export_the_outbox_backlog_its_oldest_age_and_the_dead_rows(service, tmp_path):
    settings = SETTINGS_OF[service].from_env(env={"DEALGATE_VAR_DIR": str(tmp_path),
                                                  "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    from importlib import import_module

    from shared.db import upgrade_to_head

    upgrade_to_head(settings.database_url, import_module(f"services.{service}.bootstrap").MIGRATIONS)
    text = FACTORIES[service]({"SETTINGS": settings}).test_client().get("/metrics").get_data(as_text=True)
    for gauge in ("dealgate_outbox_backlog", "dealgate_outbox_oldest_pending_age_seconds", "dealgate_outbox_dead"):
        assert f'{gauge}{{service="{service}"}} 0.0' in text, gauge
