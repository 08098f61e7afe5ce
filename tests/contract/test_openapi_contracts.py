"""Each service documents the SPEC's endpoints, and documents its errors as problem+json."""
import pytest

from services.catalog.settings import CatalogSettings
from services.conflict.settings import ConflictSettings
from services.deals.settings import DealsSettings
from shared.config import Settings

SETTINGS_OF: dict[str, type[Settings]] = {"catalog": CatalogSettings, "deals": DealsSettings,
                                          "conflict": ConflictSettings}

SPEC_ENDPOINTS = {
    "catalog": {("get", "/v1/listings"), ("post", "/v1/listings"), ("get", "/v1/listings/{listing_id}"),
                ("patch", "/v1/listings/{listing_id}"), ("post", "/v1/listings/{listing_id}/publish"),
                ("post", "/v1/listings/{listing_id}/retire")},
    "deals": {("post", "/v1/deals"), ("get", "/v1/deals"), ("get", "/v1/deals/{deal_id}"),
              ("post", "/v1/deals/{deal_id}/withdraw"), ("post", "/v1/deals/{deal_id}/extend"),
              ("post", "/v1/deals/{deal_id}/close"), ("post", "/v1/deals/check")},
    "conflict": {("get", "/v1/queues"), ("get", "/v1/cases"), ("get", "/v1/cases/{case_id}"),
                 ("post", "/v1/cases/{case_id}/claim"), ("post", "/v1/cases/{case_id}/resolve"),
                 ("get", "/v1/analytics")},
}


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    from importlib import import_module

    directory = tmp_path_factory.mktemp("openapi")
    return {name: import_module(f"services.{name}.app").create_app(
        {"SETTINGS": SETTINGS_OF[name].from_env(env={"DEALGATE_VAR_DIR": str(directory)})}).test_client()
        .get("/openapi.json").json for name in SPEC_ENDPOINTS}


@pytest.mark.parametrize("service", SPEC_ENDPOINTS)
def test_every_spec_endpoint_is_documented(documents, service):
    documented = {(method, path) for path, item in documents[service]["paths"].items() for method in item
                  if method in ("get", "post", "patch", "put", "delete")}
    assert SPEC_ENDPOINTS[service] <= documented, SPEC_ENDPOINTS[service] - documented


@pytest.mark.parametrize("service", SPEC_ENDPOINTS)
def test_errors_are_documented_as_problem_json_and_bearer_auth_is_declared(documents, service):
    document = documents[service]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            for status, response in operation["responses"].items():
                content = response.get("content", {}) if isinstance(response, dict) else {}
                if str(status)[0] in "45" and content:
                    assert set(content) == {"application/problem+json"}, f"{method} {path} {status}"
