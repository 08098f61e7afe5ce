"""The conflict service's Flask app factory; gunicorn runs "services.conflict.app:create_app()"."""
from __future__ import annotations

from flask import Flask

from services.conflict.api.cases import blp as cases_blueprint
from services.conflict.api.desk import desk as desk_blueprint
from services.conflict.api.queues import blp as queues_blueprint
from services.conflict.bootstrap import Conflict, bootstrap
from shared.config import Settings
from shared.http import create_base_app, database_check, kafka_check
from shared.kafka_metrics import depth_collectors
from shared.logging import configure_logging
from shared.topics import DEALS_REGISTRATIONS


def create_app(config: dict | None = None, *, conflict: Conflict | None = None) -> Flask:
    settings = (config or {}).get("SETTINGS") or Settings.from_env("conflict")
    configure_logging("conflict", settings.log_level, settings.log_json)
    conflict = conflict or bootstrap(settings)
    app, api = create_base_app(
        service="conflict", title="Dealgate Conflict", tokens=conflict.tokens,
        readiness={"database": database_check(conflict.engine),
                   "kafka": kafka_check(conflict.settings.kafka_bootstrap_servers)},
        config_overrides={k: v for k, v in (config or {}).items() if k != "SETTINGS"},
        metrics_collectors=depth_collectors(conflict.settings.kafka_bootstrap_servers,
                                            group=conflict.settings.consumer_group,
                                            consumed_topics=(DEALS_REGISTRATIONS,)),
    )
    app.extensions["dealgate"] = conflict
    api.register_blueprint(cases_blueprint)
    api.register_blueprint(queues_blueprint)
    app.register_blueprint(desk_blueprint)
    return app
