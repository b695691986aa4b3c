"""Request ids and one log line per request (method, path, status, duration, request id)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("app.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming_request_id() -> str:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    return supplied if _SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex


def register_request_logging(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.request_id = _incoming_request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        started = g.get("request_started")
        duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        log.info(
            "%s %s %d %.1fms request_id=%s",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            duration_ms,
            g.get("request_id", "-"),
        )
        return response
