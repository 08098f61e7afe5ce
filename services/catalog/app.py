"""The catalog's Flask app factory; gunicorn runs "services.catalog.app:create_app()"."""
from __future__ import annotations

from flask import Flask

from services.catalog.api.listings import blp as listings_blueprint
from services.catalog.api.revalidation import SearchRevalidation
from services.catalog.bootstrap import Catalog, bootstrap
from shared.config import Settings
from shared.http import create_base_app, database_check, kafka_check
from shared.kafka_metrics import depth_collectors
from shared.logging import configure_logging


def create_app(config: dict | None = None, *, catalog: Catalog | None = None) -> Flask:
    settings = (config or {}).get("SETTINGS") or Settings.from_env("catalog")
    configure_logging("catalog", settings.log_level, settings.log_json)
    catalog = catalog or bootstrap(settings)
    app, api = create_base_app(
        service="catalog", title="Dealgate Catalog", tokens=catalog.tokens,
        readiness={"database": database_check(catalog.engine),
                   "kafka": kafka_check(catalog.settings.kafka_bootstrap_servers)},
        config_overrides={k: v for k, v in (config or {}).items() if k != "SETTINGS"},
        metrics_collectors=depth_collectors(catalog.settings.kafka_bootstrap_servers, group=None,
                                            consumed_topics=()),
    )
    app.extensions["dealgate"] = catalog
    api.register_blueprint(listings_blueprint)
    app.wsgi_app = SearchRevalidation(app.wsgi_app, revision=catalog.reader.revision, tokens=catalog.tokens)
    return app
