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
                if str(status)[0] in "45" and content and status != "414":  # 414 is gunicorn's own page
                    assert set(content) == {"application/problem+json"}, f"{method} {path} {status}"


def _schema_ref(document, response):
    if "$ref" in response:  # a shared response (components/responses)
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response["content"]["application/problem+json"]["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("service", SPEC_ENDPOINTS)
def test_every_error_status_has_a_problem_body_and_no_default_hides_one(documents, service):
    """A generated client parses each documented error into a Problem (a 422 into a ValidationProblem with its
    errors map); nothing is left to `default`, so schemathesis can tell an undocumented status."""
    document = documents[service]
    validation = document["components"]["schemas"]["ValidationProblem"]
    assert "errors" in validation["required"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            responses = operation["responses"]
            where = f"{service} {method} {path}"
            assert "default" not in responses, where
            assert {"400", "401", "503"} <= set(responses), where
            if method in ("post", "patch", "put"):
                assert {"413", "415", "422"} <= set(responses), where
            if "{" in path:
                assert "404" in responses, where
            assert responses["414"]["content"] == {"text/html": {}}, where
            for status, response in responses.items():
                if status[0] in "45" and status != "414":
                    expected = "ValidationProblem" if status == "422" else "Problem"
                    assert _schema_ref(document, response) == expected, f"{where} {status}"
            for status in ("429", "503"):
                if status in responses:
                    assert "Retry-After" in responses[status].get("headers", {}), f"{where} {status}"


def test_submitting_documents_every_answer_a_partner_can_get(documents):
    operation = documents["deals"]["paths"]["/v1/deals"]["post"]
    assert {"201", "400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(operation["responses"])
