"""The HTTP conventions every service shares, exercised through the catalog app."""
import pytest

from services.catalog.app import create_app
from services.catalog.bootstrap import MIGRATIONS
from services.catalog.settings import CatalogSettings
from shared.auth import TokenService
from shared.db import upgrade_to_head


@pytest.fixture
def client(tmp_path):
    settings = CatalogSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path)})
    upgrade_to_head(settings.database_url, MIGRATIONS)
    return create_app({"SETTINGS": settings}).test_client()


@pytest.fixture
def admin():
    return {"Authorization": "Bearer " + TokenService(CatalogSettings.from_env(env={}).jwt_secret).issue("admin")}


def _is_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_missing_and_bad_tokens_answer_401(client):
    _is_problem(client.post("/v1/listings", json={}), 401)
    _is_problem(client.post("/v1/listings", json={}, headers={"Authorization": "Bearer nope"}), 401)
    _is_problem(client.post("/v1/listings", json={}, headers={"Authorization": "Basic abc"}), 401)


def test_malformed_json_is_400_and_wrong_media_type_is_415(client, admin):
    _is_problem(client.post("/v1/listings", data="{oops", headers={**admin, "Content-Type": "application/json"}), 400)
    _is_problem(client.post("/v1/listings", data="a=b", headers={**admin, "Content-Type": "text/plain"}), 415)


def test_a_body_over_one_mib_is_413(client, admin):
    body = '{"title": "' + "x" * (1024 * 1024) + '"}'
    _is_problem(client.post("/v1/listings", data=body, headers={**admin, "Content-Type": "application/json"}), 413)


def test_validation_failures_are_422_with_field_errors(client, admin):
    body = _is_problem(client.post("/v1/listings", json={"title": ""}, headers=admin), 422)
    assert "title" in body["errors"] and "vendor" in body["errors"]


def test_every_response_carries_a_correlation_id_and_echoes_the_callers(client):
    assert client.get("/healthz").headers["X-Correlation-ID"]
    assert client.get("/healthz", headers={"X-Correlation-ID": "abc123"}).headers["X-Correlation-ID"] == "abc123"


def test_unknown_routes_and_methods_are_problems_too(client):
    _is_problem(client.get("/nowhere"), 404)
    _is_problem(client.delete("/v1/listings"), 405)


def test_nul_characters_are_refused_before_they_reach_the_database(client, admin):
    _is_problem(client.get("/v1/listings/abc%00def"), 400)
    _is_problem(client.get("/v1/listings?q=a%00b"), 400)
    _is_problem(client.post("/v1/listings", data='{"title": "a\\u0000b"}',
                            headers={**admin, "Content-Type": "application/json"}), 400)
