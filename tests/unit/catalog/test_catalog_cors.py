"""CORS on the catalog's anonymous reads: allowed origins from CATALOG_CORS_ORIGINS, reads only, no credentials."""
import pytest

from services.catalog.app import create_app
from services.catalog.bootstrap import MIGRATIONS
from services.catalog.settings import CatalogSettings
from shared.config import ConfigError
from shared.db import upgrade_to_head

SHOP = "https://shop.example.com"


def _client(tmp_path, origins: str):
    settings = CatalogSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path), "CATALOG_CORS_ORIGINS": origins})
    upgrade_to_head(settings.database_url, MIGRATIONS)
    return create_app({"SETTINGS": settings}).test_client()


def test_an_allowed_origin_reads_listings_and_may_read_the_etag(tmp_path):
    client = _client(tmp_path, f"{SHOP}, https://other.example")
    response = client.get("/v1/listings", headers={"Origin": SHOP})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    revalidated = client.get("/v1/listings", headers={"Origin": SHOP, "If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["Access-Control-Allow-Origin"] == SHOP  # the 304 answered before Flask, too


def test_the_preflight_allows_reads_with_if_none_match_only(tmp_path):
    client = _client(tmp_path, SHOP)
    preflight = client.options("/v1/listings/abc", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Authorization" not in preflight.headers["Access-Control-Allow-Headers"]
    write = client.options("/v1/listings", headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in write.headers


def test_other_origins_and_other_paths_get_no_cors_headers(tmp_path):
    client = _client(tmp_path, SHOP)
    assert "Access-Control-Allow-Origin" not in client.get("/v1/listings", headers={
        "Origin": "https://evil.example"}).headers
    assert "Access-Control-Allow-Origin" not in client.get("/healthz", headers={"Origin": SHOP}).headers
    assert "Access-Control-Allow-Origin" not in _client(tmp_path, "").get("/v1/listings", headers={
        "Origin": SHOP}).headers


def test_any_origin_is_a_star_without_vary(tmp_path):
    response = _client(tmp_path, "*").get("/v1/listings", headers={"Origin": "https://any.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_bad_origin_setting_stops_the_start_naming_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="CATALOG_CORS_ORIGINS"):
        CatalogSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path),
                                      "CATALOG_CORS_ORIGINS": "https://shop.example.com/path"})
