"""The factory, configuration, error envelope and health endpoint."""

from __future__ import annotations

import re

import mongomock
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from app import create_app
from app.config import ConfigError, ProductionConfig, TestingConfig, load_config

STRONG = "k" * 16 + "9f8e7d6c5b4a3210"


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({"JWT_SECRET_KEY": STRONG}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": STRONG}, "JWT_SECRET_KEY is not set"),
        ({"SECRET_KEY": "short", "JWT_SECRET_KEY": STRONG}, "at least 32 bytes"),
        (
            {"SECRET_KEY": "change-me-" + "x" * 40, "JWT_SECRET_KEY": STRONG},
            "placeholder",
        ),
    ],
)
def test_production_refuses_weak_secrets(environ: dict, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        create_app(ProductionConfig(environ), db=mongomock.MongoClient().db)


def test_production_accepts_strong_secrets() -> None:
    app = create_app(
        ProductionConfig({"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG[::-1]}),
        db=mongomock.MongoClient().db,
    )
    assert app.config["ENV_NAME"] == "production"


def test_config_class_chosen_by_app_env() -> None:
    assert load_config({"APP_ENV": "testing"}).ENV_NAME == "testing"
    assert load_config({"FLASK_ENV": "production"}).ENV_NAME == "production"
    assert load_config({}).ENV_NAME == "development"
    with pytest.raises(ConfigError):
        load_config({"APP_ENV": "staging"})


def test_config_reads_each_setting_from_its_environment_variable() -> None:
    config = TestingConfig(
        {
            "MONGODB_URI": "mongodb://db.example:27017",
            "MONGODB_DB": "animes",
            "API_PREFIX": "/v1/",
            "JWT_ACCESS_TOKEN_EXPIRES": "120",
            "EMBEDDING_DIM": "768",
            "PORT": "8080",
        }
    )
    assert config.MONGODB_URI == "mongodb://db.example:27017"
    assert config.MONGODB_DB == "animes"
    assert config.API_PREFIX == "/v1"
    assert config.JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 120
    assert config.EMBEDDING_DIM == 768
    assert config.PORT == 8080


def test_health_ok(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.headers["X-Request-ID"]


def test_health_503_when_database_unreachable(app, monkeypatch) -> None:
    db = app.extensions["mongo_db"]

    def refuse(*_args, **_kwargs):
        raise ServerSelectionTimeoutError("no server")

    monkeypatch.setattr(db, "command", refuse)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert "database unreachable" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/no-such-page", 404), ("delete", "/health", 405)],
)
def test_http_errors_are_json(client, method: str, path: str, status: int) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json
    assert set(response.get_json()) >= {"error"}


def test_request_body_over_limit_is_413(app) -> None:
    @app.post("/echo-size")
    def echo_size():
        from flask import request

        return {"size": len(request.get_data())}

    response = app.test_client().post("/echo-size", data=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_unexpected_error_is_generic_500_json(app) -> None:
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "internal server error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_openapi_document_lists_every_route(client, app) -> None:
    document = client.get(f"{app.config['API_PREFIX']}/openapi.json").get_json()
    documented = set(document["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("api-docs"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in documented, f"{rule.rule} is not in the OpenAPI document"
