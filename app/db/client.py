"""MongoClient creation (one per process) and the database handle for the app."""

from __future__ import annotations

import atexit
import logging
import os

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from app.db.embedded import ensure_embedded_server

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
MOCK_SCHEME = "mongomock://"

_clients: dict[tuple[int, str], MongoClient] = {}


def resolve_uri(mongodb_uri: str, embedded_db_path: str) -> str:
    """The URI to connect to: MONGODB_URI as given, or the embedded server's when unset/embedded."""
    if not mongodb_uri or mongodb_uri == EMBEDDED:
        return ensure_embedded_server(embedded_db_path)
    return mongodb_uri


def get_client(uri: str) -> MongoClient:
    """The process-wide client for ``uri`` (one connection pool per process, fork-safe)."""
    key = (os.getpid(), uri)
    client = _clients.get(key)
    if client is None:
        client = _new_client(uri)
        _clients[key] = client
    return client


@atexit.register
def _close_clients() -> None:
    """Close this process's clients at exit (their pools and monitor threads)."""
    for (pid, _uri), client in list(_clients.items()):
        if pid == os.getpid():
            client.close()
    _clients.clear()


def _new_client(uri: str) -> MongoClient:
    if uri.startswith(MOCK_SCHEME):
        import mongomock

        return mongomock.MongoClient()
    return MongoClient(uri, serverSelectionTimeoutMS=5000, tz_aware=True)


def connect(mongodb_uri: str, db_name: str, embedded_db_path: str) -> Database:
    """The configured database; starts the embedded server first when that is the backend."""
    return get_client(resolve_uri(mongodb_uri, embedded_db_path))[db_name]


def ping(db: Database) -> str | None:
    """None when the database answers, otherwise the reason it does not."""
    try:
        db.command("ping")
        return None
    except PyMongoError as exc:
        return f"database unreachable: {exc.__class__.__name__}"
