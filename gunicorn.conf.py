"""gunicorn settings for the API: ``make run``, the Dockerfile, and any ``gunicorn run:app`` started
from the project root (gunicorn reads ./gunicorn.conf.py by itself). Command-line flags win.

Errors gunicorn answers on its own, before the app sees the request (a request line over
``limit_request_line``, too many or too large headers, a malformed request), carry the API's
JSON envelope ``{"error": ...}`` instead of gunicorn's HTML page.
"""

import json
import os
import socket

from gunicorn import util
from gunicorn.arbiter import Arbiter

bind = [f"0.0.0.0:{os.environ.get('PORT', '5000')}"]
workers = 2
accesslog = "-"

# A worker silent for ``timeout`` seconds is killed and restarted. The longest request the API
# serves is POST /api/admin/train with "wait" (at most 25 s: app.schemas.admin.MAX_WAIT_SECONDS),
# or a worker's first semantic search loading the embedding model: both end well inside 60 s.
timeout = 60
graceful_timeout = 30
keepalive = 5

# Request size limits (gunicorn's defaults, stated): the request line (method, path and query),
# the number of header fields and the size of each. Bodies are capped by the app
# (MAX_CONTENT_LENGTH, 413).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's error page, as the API's envelope: ``{"error": "<reason>: <message>"}``."""
    body = json.dumps({"error": f"{reason}: {mesg}" if mesg else reason}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


def on_starting(server: Arbiter) -> None:
    """Before the workers fork: gunicorn's own error responses become JSON."""
    util.write_error = write_json_error
