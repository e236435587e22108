"""The API's contract: root, OpenAPI schema, local docs, and the one error body everywhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jsonschema
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

SCHEMA_URL = "/api/v1/schema/"


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_root_lists_the_resources(db):
    response = APIClient().get("/api/v1/")

    assert response.status_code == 200
    links = response.json()
    for name in ("tickets", "stores", "partners", "regions", "equipment", "clients"):
        assert links[name].endswith(f"/api/v1/{name}/")
    assert links["auth_token"].endswith("/api/v1/auth/token/")
    assert links["docs"].endswith("/api/v1/docs/")


def test_schema_is_openapi_3_with_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/auth/token/",
        "/api/v1/tickets/",
        "/api/v1/tickets/{id}/",
        "/api/v1/tickets/{id}/transition/",
        "/api/v1/tickets/{id}/assign/",
        "/api/v1/tickets/{id}/priority/",
        "/api/v1/tickets/{ticket_pk}/comments/",
        "/api/v1/tickets/{ticket_pk}/events/",
        "/api/v1/tickets/{ticket_pk}/attachments/",
        "/api/v1/attachments/{id}/download/",
        "/api/v1/stores/",
        "/api/v1/stores/{id}/",
        "/api/v1/partners/",
        "/api/v1/regions/",
        "/api/v1/equipment/",
        "/api/v1/clients/",
    } <= paths
    assert set(schema["paths"]["/api/v1/tickets/"]) == {"get", "post"}


def test_schema_documents_token_auth_and_the_error_body(schema):
    components = schema["components"]
    assert components["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    assert components["schemas"]["Error"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    assert set(components["schemas"]["ErrorDetail"]["required"]) == {"code", "message", "fields"}
    transition = schema["paths"]["/api/v1/tickets/{id}/transition/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(transition["responses"])
    assert transition["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert {"tokenAuth": []} in transition["security"]
    obtain = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert "401" not in obtain["responses"]


def test_schema_generates_without_warnings_and_validates(db, tmp_path):
    # --fail-on-warn turns any warning (an untyped field, an unguessable serializer…) into
    # an error; --validate checks the result against the OpenAPI 3 JSON schema.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))

    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3.")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_only_local_assets(db, url):
    # when
    response = APIClient().get(url)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    parser = _Assets()
    parser.feed(html)
    assert parser.urls, "the page should load its scripts"
    assert all(u.startswith("/static/drf_spectacular_sidecar/") for u in parser.urls), parser.urls
    assert not re.search(r"(https?:)?//(cdn|unpkg|cdnjs|jsdelivr)", html)
    assert "/api/v1/schema/" in html


def test_swagger_ui_does_not_call_the_online_validator(db):
    html = APIClient().get("/api/v1/docs/").content.decode()

    assert re.search(r'"validatorUrl":\s*null', html)


# -- the uniform error body, checked against the schema's own Error component -------------


def _error_validator(schema: dict) -> jsonschema.Draft4Validator:
    """Validates a body against the ``Error`` component the schema publishes."""
    return jsonschema.Draft4Validator(
        {"$ref": "#/components/schemas/Error", "components": schema["components"]}
    )


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda c, w: c.get("/api/v1/tickets/"), 401, "not_authenticated"),
        (lambda c, w: c.post("/api/v1/auth/token/", {"username": "x"}), 400, "validation_failed"),
        (lambda c, w: c.get("/api/v1/no-such-thing/"), 404, "not_found"),
        (lambda c, w: c.get("/api/v1/tickets/abc/"), 404, "not_found"),
    ],
)
def test_anonymous_errors_use_the_error_component(world, schema, call, status, code):
    response = call(APIClient(), world)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    _error_validator(schema).validate(response.json())


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda c, w: c.get(f"/api/v1/tickets/{w.tickets['b1'].pk}/"), 404, "not_found"),
        (lambda c, w: c.put("/api/v1/tickets/", {}), 405, "method_not_allowed"),
        (
            lambda c, w: c.delete(f"/api/v1/tickets/{w.tickets['a1'].pk}/"),
            405,
            "method_not_allowed",
        ),
        (lambda c, w: c.post("/api/v1/tickets/", {"store": "x"}), 400, "validation_failed"),
        (
            lambda c, w: c.post("/api/v1/tickets/", "{oops", content_type="application/json"),
            400,
            "parse_error",
        ),
        (
            lambda c, w: c.post("/api/v1/tickets/", "store=1", content_type="text/plain"),
            415,
            "unsupported_media_type",
        ),
        (
            lambda c, w: c.post(
                f"/api/v1/tickets/{w.tickets['a2'].pk}/transition/", {"status": "closed"}
            ),
            409,
            "invalid_transition",
        ),
        (
            lambda c, w: c.post(
                f"/api/v1/tickets/{w.tickets['a2'].pk}/priority/", {"priority": "p1"}
            ),
            403,
            "permission_denied",
        ),
    ],
)
def test_authenticated_errors_use_the_error_component(world, api_for, schema, call, status, code):
    # given client A's manager (sees a1 and a2, not b1)
    client = api_for(world.users["client_manager_a"])

    # when
    response = call(client, world)

    # then
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    _error_validator(schema).validate(body)
