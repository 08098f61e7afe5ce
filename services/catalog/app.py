"""The catalog's Flask app factory; gunicorn runs "services.catalog.app:create_app()"."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.catalog.api.cors import AnonymousReadsCors
from services.catalog.api.listings import blp as listings_blueprint
from services.catalog.api.revalidation import SearchRevalidation
from services.catalog.bootstrap import Catalog, bootstrap
from services.catalog.settings import CatalogSettings
from shared.http import create_service_app


def create_app(config: Mapping[str, Any] | None = None, *, catalog: Catalog | None = None) -> Flask:
    app, api, catalog = create_service_app(config, settings_class=CatalogSettings, title="Dealgate Catalog",
                                           build=bootstrap, components=catalog)
    api.register_blueprint(listings_blueprint)
    app.wsgi_app = SearchRevalidation(app.wsgi_app, revision=catalog.reader.revision,  # type: ignore[method-assign]
                                      tokens=catalog.tokens, page_cache=catalog.page_cache)
    app.wsgi_app = AnonymousReadsCors(app.wsgi_app,  # type: ignore[method-assign]
                                      allowed_origins=catalog.settings.cors_origins)
    return app
