"""The application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.cli import register_cli
from app.config import Config, load_config
from app.errors import register_error_handlers
from app.extensions import init_extensions
from app.logging_config import configure_logging
from app.request_log import register_request_logging
from app.routes import register_blueprints
from app.routes.converters import register_converters
from app.security import init_security

API_TITLE = "Anime Recommender API"
API_VERSION = "1.0.0"


def _openapi_settings(api_prefix: str) -> dict[str, Any]:
    return {
        "API_TITLE": API_TITLE,
        "API_VERSION": API_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": api_prefix or "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
    }


def create_app(config: Config | None = None, *, db: Any = None) -> Flask:
    """Build the app from ``config`` (default: the environment); ``db`` overrides the database."""
    config = config or load_config()
    config.validate()
    configure_logging(config.LOG_LEVEL)

    app = Flask(__name__)
    app.config.from_mapping(config.as_flask_config())
    app.config.update(_openapi_settings(config.API_PREFIX))
    init_security(app)

    api = init_extensions(app, db)
    register_converters(app, api)
    register_blueprints(api, config.API_PREFIX)
    register_error_handlers(app)
    register_request_logging(app)
    register_cli(app)
    return app
