"""Every API route of the app, found from its url_map and OpenAPI document (no hand-kept list)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import mongomock
from bson import ObjectId
from flask import Flask

from app import create_app
from app.config import TestingConfig
from app.security import access_of

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    access: str | None  # "user", "admin" or None (public)
    arguments: tuple[tuple[str, str], ...]  # (name, converter) in rule order
    operation: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    body: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def url(self, **values: Any) -> str:
        """The rule with each argument filled: given values, else 1 (int) or a fresh ObjectId."""

        def fill(match: re.Match) -> str:
            converter, name = match.group(1) or "string", match.group(2)
            default = "1" if converter == "int" else str(ObjectId())
            return str(values.get(name, default))

        return _ARGUMENT.sub(fill, self.rule)


def discovery_app() -> Flask:
    return create_app(
        TestingConfig({"RATELIMIT_ENABLED": "false"}), db=mongomock.MongoClient(tz_aware=True).db
    )


def api_routes(app: Flask | None = None) -> list[Route]:
    """Every (rule, method) under API_PREFIX except the OpenAPI document and its UI."""
    app = app or discovery_app()
    prefix = app.config["API_PREFIX"]
    with app.test_client() as client:
        document = client.get(f"{prefix}/openapi.json").get_json()
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{prefix}/") or rule.endpoint.startswith("api-docs"):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        openapi_path = _ARGUMENT.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            operation = document["paths"].get(openapi_path, {}).get(method.lower(), {})
            routes.append(
                Route(
                    rule=rule.rule,
                    method=method,
                    access=access_of(handler) if handler else None,
                    arguments=tuple(
                        (name, converter or "string")
                        for converter, name in _ARGUMENT.findall(rule.rule)
                    ),
                    operation=operation,
                    body=_json_body(document, operation),
                )
            )
    return sorted(routes, key=str)


def _json_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    """The operation's JSON body schema with its properties' references resolved."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return None
    schema = dict(resolve(document, content["schema"]))
    schema["properties"] = {
        name: resolve(document, prop) for name, prop in schema.get("properties", {}).items()
    }
    return schema


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a ``$ref`` into the document's components."""
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema
