"""Extensions created once, unbound, and bound to the app in ``create_app``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from app.db.client import connect
from app.db.indexes import ensure_indexes
from app.errors import http_exception_response


class JsonApi(Api):
    """flask-smorest's Api answering errors in the project's ``{"error": ...}`` envelope."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_exception_response(error)


class BadRequestParser(FlaskParser):
    """Invalid input is a 400 (webargs defaults to 422)."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    """The blueprint every route module uses: OpenAPI-documented, 400 on invalid input."""

    ARGUMENTS_PARSER = BadRequestParser()


jwt = JWTManager()
cors = CORS()


def init_database(app: Flask, db: Any = None) -> None:
    """Bind the database (given, e.g. by tests, or from the config) and create its indexes."""
    if db is None:
        db = connect(
            app.config["MONGODB_URI"], app.config["MONGODB_DB"], app.config["EMBEDDED_DB_PATH"]
        )
    ensure_indexes(db)
    app.extensions["mongo_db"] = db


def init_extensions(app: Flask, db: Any = None) -> JsonApi:
    """Bind every extension to ``app``; return the app's own Api to register blueprints on."""
    init_database(app, db)
    api = JsonApi(app)
    jwt.init_app(app)
    cors.init_app(
        app,
        resources={f"{app.config['API_PREFIX']}/*": {"origins": app.config["CORS_ORIGINS"]}},
    )
    return api
