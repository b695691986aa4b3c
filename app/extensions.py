"""Extensions created once, unbound, and bound to the app in ``create_app``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from app.db.client import connect
from app.db.common import INT64_MAX, INT64_MIN
from app.db.indexes import ensure_indexes
from app.errors import http_exception_response
from app.jobs.launcher import SubprocessLauncher
from app.rate_limit_storage import DatabaseStorage
from app.schemas.common import ErrorEnvelopeSchema
from app.services.anime_service import CATALOGUE_CACHE_SECONDS, TOTALS_CACHE_SIZE
from app.services.model_registry import ModelRegistry
from app.services.recommendation_service import AnimeCache
from app.services.search_service import KEYWORD_CACHE_SIZE
from app.services.semantic_search_service import SearchIndex
from app.services.ttl_cache import TtlCache

RATE_LIMIT_STORAGES = (DatabaseStorage,)  # imported so limits knows the database:// scheme


class JsonApi(Api):
    """flask-smorest's Api answering, and documenting, errors in the project's envelope."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_exception_response(error)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable(data: Any) -> str | None:
    """Why MongoDB could not store ``data`` (lone surrogate, integer beyond 64 bits), or None."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str) and _LONE_SURROGATE.search(value):
            return "strings must be valid UTF-8"
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            return "integers must fit in 64 bits"
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


class BadRequestParser(FlaskParser):
    """Invalid input is a 400 (webargs defaults to 422); a body must be JSON of valid UTF-8.

    An endpoint with a JSON body requires one, as its OpenAPI document says: an empty request is
    a 400 rather than a request for every default (``{}`` asks for those).
    """

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Any) -> Any:
        if not req.get_data(cache=True):
            abort(400, description="a JSON body is required (send {} for every default)")
        if not is_json_request(req):
            abort(415, description="the request body must be JSON (Content-Type: application/json)")
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            abort(400, description="invalid input: the JSON body is nested too deeply")
        except ValueError as error:  # e.g. an integer literal of more than 4300 digits
            if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
                raise
            abort(400, description="invalid input: a number in the JSON body is too large")
        problem = _unstorable(data)
        if problem:
            abort(400, description=f"invalid input: {problem}")
        return data


class Blueprint(SmorestBlueprint):
    """The blueprint every route module uses: OpenAPI-documented, 400 on invalid input."""

    ARGUMENTS_PARSER = BadRequestParser()


jwt = JWTManager()
cors = CORS()
# Per-app settings are read per request, so each app (and test) gets its own rates.
limiter = Limiter(
    get_remote_address, default_limits=[lambda: current_app.config["RATELIMIT_DEFAULT"]]
)


def init_database(app: Flask, db: Any = None) -> None:
    """Bind the database (given, e.g. by tests, or from the config) and create its indexes."""
    if db is None:
        db = connect(
            app.config["MONGODB_URI"], app.config["MONGODB_DB"], app.config["EMBEDDED_DB_PATH"]
        )
    ensure_indexes(db)
    app.extensions["mongo_db"] = db


def init_search_index(app: Flask) -> None:
    """The worker's semantic index: loaded on first use, reloaded when its file changes."""
    app.extensions["search_index"] = SearchIndex(
        app.config["FAISS_INDEX_PATH"],
        app.config["EMBEDDING_MODEL"],
        threads=app.config["FAISS_THREADS"],
    )


def init_serving(app: Flask) -> None:
    """The worker's trained models (loaded on first use, hot-reloaded), caches, job launcher."""
    app.extensions["model_registry"] = ModelRegistry(
        app.config["MODELS_DIR"], check_interval=app.config["MODEL_CHECK_SECONDS"]
    )
    app.extensions["anime_cache"] = AnimeCache(app.config["ANIME_CACHE_SECONDS"])
    app.extensions["stats_cache"] = TtlCache(app.config["STATS_CACHE_SECONDS"])
    app.extensions["genre_cache"] = TtlCache(CATALOGUE_CACHE_SECONDS)
    app.extensions["catalogue_totals"] = TtlCache(
        CATALOGUE_CACHE_SECONDS, maxsize=TOTALS_CACHE_SIZE
    )
    app.extensions["keyword_results"] = TtlCache(
        CATALOGUE_CACHE_SECONDS, maxsize=KEYWORD_CACHE_SIZE
    )
    job_env = {
        "APP_ENV": "production" if app.config["ENV_NAME"] == "production" else "development",
        **{
            name: str(app.config[name])
            for name in ("MONGODB_URI", "MONGODB_DB", "EMBEDDED_DB_PATH", "MODELS_DIR", "LOG_LEVEL")
        },
    }
    app.extensions["training_launcher"] = SubprocessLauncher(
        job_env, Path(app.config["MODELS_DIR"]) / "job_logs"
    )


def init_extensions(app: Flask, db: Any = None) -> JsonApi:
    """Bind every extension to ``app``; return the app's own Api to register blueprints on."""
    init_database(app, db)
    init_search_index(app)
    init_serving(app)
    api = JsonApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    jwt.init_app(app)
    limiter.init_app(app)
    cors.init_app(
        app,
        resources={f"{app.config['API_PREFIX']}/*": {"origins": app.config["CORS_ORIGINS"]}},
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After", "X-Request-ID"],
    )
    return api
