"""The embedded nx-27017 server over a real socket (or MONGODB_TEST_URI when set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from app.db.embedded import ensure_embedded_server, stop_embedded_server


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("MONGODB_TEST_URI")
    if external:
        yield external
        return
    db_path = Path(tmp_path_factory.mktemp("embedded")) / "test.db"
    yield ensure_embedded_server(db_path)
    stop_embedded_server(db_path)


@pytest.fixture
def real_db(mongodb_uri: str) -> Iterator[Database]:
    """A fresh database on the real server for one test, dropped afterwards."""
    client: MongoClient = MongoClient(mongodb_uri, tz_aware=True)
    name = f"test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()
