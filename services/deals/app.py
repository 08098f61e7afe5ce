"""The deals service's Flask app factory; gunicorn runs "services.deals.app:create_app()"."""
from __future__ import annotations

from flask import Flask

from services.deals.api.deals import blp as deals_blueprint
from services.deals.bootstrap import Deals, bootstrap
from shared.config import Settings
from shared.http import create_base_app, database_check, kafka_check
from shared.kafka_metrics import depth_collectors
from shared.logging import configure_logging
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES


def create_app(config: dict | None = None, *, deals: Deals | None = None) -> Flask:
    settings = (config or {}).get("SETTINGS") or Settings.from_env("deals")
    configure_logging("deals", settings.log_level, settings.log_json)
    deals = deals or bootstrap(settings)
    app, api = create_base_app(
        service="deals", title="Dealgate Deals", tokens=deals.tokens,
        readiness={"database": database_check(deals.engine),
                   "kafka": kafka_check(deals.settings.kafka_bootstrap_servers)},
        config_overrides={k: v for k, v in (config or {}).items() if k != "SETTINGS"},
        metrics_collectors=depth_collectors(deals.settings.kafka_bootstrap_servers, group=deals.settings.consumer_group,
                                            consumed_topics=(CATALOG_LISTINGS, CONFLICT_CASES)),
    )
    app.extensions["dealgate"] = deals
    api.register_blueprint(deals_blueprint)
    return app
