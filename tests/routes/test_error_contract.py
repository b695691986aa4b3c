"""What every error looks like, on the wire and in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from tests.routes.discovery import api_routes, resolve

ROUTES = api_routes()
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ENVELOPE = {"error", "details", "request_id"}


def _error_schemas(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    content = resolve(document, response).get("content", {})
                    schema = content.get("application/json", {}).get("schema", {})
                    found.append((f"{method.upper()} {path} {status}", resolve(document, schema)))
    return found


def test_every_documented_error_is_the_envelope(client) -> None:
    document = client.get("/api/openapi.json").get_json()
    errors = _error_schemas(document)
    assert len(errors) > len(document["paths"])  # at least a default error per operation
    for where, schema in errors:
        assert set(schema.get("properties", {})) == ENVELOPE, where
        assert schema.get("required") == ["error"], where
    assert "Error" not in document["components"]["schemas"]  # flask-smorest's {code, status...}


def test_an_error_body_is_the_documented_envelope(client) -> None:
    body = client.get("/api/anime/424242").get_json()
    assert set(body) <= ENVELOPE and isinstance(body["error"], str) and body["request_id"]


@pytest.mark.parametrize("route", sorted({r.rule: r for r in ROUTES}.values(), key=str), ids=str)
def test_405_names_the_allowed_methods(client, route) -> None:
    allowed = {r.method for r in ROUTES if r.rule == route.rule}
    refused = next(method for method in METHODS if method not in allowed)
    response = client.open(route.url(), method=refused)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed | {"OPTIONS"} | (
        {"HEAD"} if "GET" in allowed else set()
    )
    assert response.is_json and "not allowed" in response.get_json()["error"]
