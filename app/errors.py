"""Error types the services raise, and the one JSON envelope every error response uses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error a client can act on; ``status`` is its HTTP status."""

    status = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class ServiceUnavailable(AppError):
    status = 503


def error_response(status: int, message: str, details: Any = None) -> tuple[Response, int]:
    """``{"error": message}`` (plus ``details`` and the request id) with ``status``."""
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    return jsonify(body), status


def _validation_message(messages: Any) -> str:
    """One readable line from webargs/marshmallow messages: 'field: problem; ...'."""
    parts: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            parts.append(f"{prefix}: {' '.join(value)}" if prefix else " ".join(value))
        else:
            parts.append(f"{prefix}: {value}")

    if isinstance(messages, dict):
        for location_messages in messages.values():
            walk("", location_messages)
    else:
        walk("", messages)
    return "; ".join(parts) or "invalid input"


def http_exception_response(error: HTTPException) -> tuple[Response, int]:
    """JSON for werkzeug's HTTP errors, including webargs' validation errors.

    The error's own headers are kept (a 405's ``Allow``, a 401's ``WWW-Authenticate``), all but
    its HTML content type.
    """
    status = error.code or 500
    messages = (getattr(error, "data", None) or {}).get("messages")
    if messages:
        response, status = error_response(
            status, f"invalid input: {_validation_message(messages)}", messages
        )
    else:
        response, status = error_response(status, error.description or error.name)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def register_error_handlers(app: Flask) -> None:
    """Every error answers JSON; unexpected ones are logged with their traceback, not returned."""

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> tuple[Response, int]:
        return error_response(error.status, error.message, error.details)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> tuple[Response, int]:
        return http_exception_response(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> tuple[Response, int]:
        log.exception("unhandled error", exc_info=error)
        return error_response(500, "internal server error")
