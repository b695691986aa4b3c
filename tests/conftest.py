"""Shared fixtures: an app on a fresh mongomock database per test, a client, users and tokens."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mongomock
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from pymongo.database import Database

from app import create_app
from app.config import TestingConfig

pytest_plugins = ["tests.routes.semantic_fixtures", "tests.services.import_fixtures"]


def _let_mongomock_accept_bulk_sort() -> None:
    """pymongo >= 4.9 passes ``sort`` to bulk update/replace builders; mongomock 4.3 predates it."""
    builder = mongomock.collection.BulkOperationBuilder
    for name in ("add_update", "add_replace"):
        original = getattr(builder, name)

        def accept_sort(self, *args, _original=original, sort=None, **kwargs):
            return _original(self, *args, **kwargs)

        setattr(builder, name, accept_sort)


_let_mongomock_accept_bulk_sort()

SAMPLE_ANIME = [
    {
        "anime_id": 1,
        "name": "Cowboy Bebop",
        "genre": "Action, Adventure, Comedy, Drama, Sci-Fi, Space",
        "type": "TV",
        "episodes": 26,
        "rating": 8.82,
        "members": 486824,
    },
    {
        "anime_id": 20,
        "name": "Naruto",
        "genre": "Action, Comedy, Martial Arts, Shounen, Super Power",
        "type": "TV",
        "episodes": 220,
        "rating": 7.81,
        "members": 683297,
    },
    {
        "anime_id": 21,
        "name": "One Piece",
        "genre": "Action, Adventure, Comedy, Drama, Fantasy, Shounen, Super Power",
        "type": "TV",
        "episodes": None,
        "rating": 8.58,
        "members": 504862,
    },
    {
        "anime_id": 199,
        "name": "Sen to Chihiro no Kamikakushi",
        "genre": "Adventure, Drama, Supernatural",
        "type": "Movie",
        "episodes": 1,
        "rating": 8.93,
        "members": 466254,
    },
    {
        "anime_id": 1575,
        "name": "Code Geass: Hangyaku no Lelouch",
        "genre": "Action, Mecha, Military, School, Sci-Fi, Super Power",
        "type": "TV",
        "episodes": 25,
        "rating": 8.83,
        "members": 715151,
    },
]


@pytest.fixture(autouse=True)
def _seed_random() -> None:
    random.seed(42)
    np.random.seed(42)


@pytest.fixture
def db() -> Database:
    return mongomock.MongoClient(tz_aware=True)["anime_test"]


@pytest.fixture
def config(tmp_path: Path) -> TestingConfig:
    return TestingConfig(
        {"RATELIMIT_ENABLED": "false", "FAISS_INDEX_PATH": str(tmp_path / "faiss" / "anime.index")}
    )


@pytest.fixture
def app(config: TestingConfig, db: Database) -> Iterator[Flask]:
    yield create_app(config, db=db)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sample_anime(db: Database) -> list[dict[str, Any]]:
    db.anime.insert_many([dict(doc) for doc in SAMPLE_ANIME])
    return [dict(doc) for doc in SAMPLE_ANIME]


@pytest.fixture
def make_user(db: Database) -> Callable[..., dict[str, Any]]:
    """Insert a user straight into the database (no password: tokens come from ``token_for``)."""

    def make(username: str = "alice", *, is_admin: bool = False) -> dict[str, Any]:
        document = {
            "username": username,
            "email": f"{username}@example.com",
            "password_hash": None,
            "is_admin": is_admin,
            "created_at": datetime.now(UTC),
        }
        document["_id"] = db.users.insert_one(document).inserted_id
        return document

    return make


@pytest.fixture
def token_for(app: Flask) -> Callable[[dict[str, Any]], dict[str, str]]:
    """Authorization headers carrying a valid access token for ``user``."""

    def headers(user: dict[str, Any]) -> dict[str, str]:
        with app.app_context():
            token = create_access_token(identity=str(user["_id"]))
        return {"Authorization": f"Bearer {token}"}

    return headers
