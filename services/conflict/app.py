"""The conflict service's Flask app factory; gunicorn runs "services.conflict.app:create_app()"."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.conflict.api.analytics import AnalyticsGauges
from services.conflict.api.analytics import blp as analytics_blueprint
from services.conflict.api.cases import blp as cases_blueprint
from services.conflict.api.desk import desk as desk_blueprint
from services.conflict.api.leads import blp as lead_board_blueprint
from services.conflict.api.queues import blp as queues_blueprint
from services.conflict.api.territories import blp as territories_blueprint
from services.conflict.bootstrap import Conflict, bootstrap
from services.conflict.handlers import CONSUMED_TOPICS
from services.conflict.settings import ConflictSettings
from shared.http import create_service_app


def create_app(config: Mapping[str, Any] | None = None, *, conflict: Conflict | None = None) -> Flask:
    app, api, _ = create_service_app(config, settings_class=ConflictSettings, title="Dealgate Conflict",
                                     build=bootstrap, components=conflict, consumed_topics=CONSUMED_TOPICS,
                                     service_metrics=AnalyticsGauges.for_service)
    api.register_blueprint(cases_blueprint)
    api.register_blueprint(queues_blueprint)
    api.register_blueprint(analytics_blueprint)
    api.register_blueprint(territories_blueprint)
    api.register_blueprint(lead_board_blueprint)
    app.register_blueprint(desk_blueprint)
    return app
