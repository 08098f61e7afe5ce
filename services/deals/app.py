"""The deals service's Flask app factory; gunicorn runs "services.deals.app:create_app()"."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.deals.api.deals import blp as deals_blueprint
from services.deals.api.imports import blp as imports_blueprint
from services.deals.api.leads import blp as leads_blueprint
from services.deals.api.partners import blp as partners_blueprint
from services.deals.api.portal import portal as portal_blueprint
from services.deals.api.webhooks import blp as webhooks_blueprint
from services.deals.bootstrap import Deals, bootstrap
from services.deals.settings import DealsSettings
from shared.http import create_service_app
from shared.topics import CATALOG_LISTINGS, CONFLICT_CASES, CONFLICT_TERRITORIES


def create_app(config: Mapping[str, Any] | None = None, *, deals: Deals | None = None) -> Flask:
    app, api, _ = create_service_app(config, settings_class=DealsSettings, title="Dealgate Deals", build=bootstrap,
                                     components=deals, consumed_topics=(CATALOG_LISTINGS, CONFLICT_CASES,
                                                                       CONFLICT_TERRITORIES))
    api.register_blueprint(deals_blueprint)
    api.register_blueprint(imports_blueprint)
    api.register_blueprint(partners_blueprint)
    api.register_blueprint(leads_blueprint)
    api.register_blueprint(webhooks_blueprint)
    app.register_blueprint(portal_blueprint)
    return app
