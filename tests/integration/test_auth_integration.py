"""Auth on the embedded nx-27017 server (or MONGODB_TEST_URI): concurrency, conflicts, flows."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from pymongo.database import Database

from app import create_app
from app.config import TestingConfig
from app.db.common import count

pytestmark = pytest.mark.integration

REGISTER = "/api/auth/register"
THREADS = 8


@pytest.fixture
def real_app(real_db: Database) -> Flask:
    return create_app(TestingConfig({"RATELIMIT_ENABLED": "false"}), db=real_db)


def race(app: Flask, bodies: list[dict[str, Any]]) -> list[Any]:
    """Send every body at once, one thread and one client each; return the responses."""
    barrier = threading.Barrier(len(bodies))
    responses: list[Any] = [None] * len(bodies)

    def send(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post(REGISTER, json=bodies[index])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def user(i: int, *, username: Callable[[int], str] | None = None, email: str = "") -> dict:
    return {
        "username": username(i) if username else f"user{i}",
        "email": email or f"user{i}@example.com",
        "password": "s3cret-pass",
    }


@pytest.mark.parametrize(
    ("bodies", "field"),
    [
        ([user(i, username=lambda _: "same") for i in range(THREADS)], "username"),
        ([user(i, email="same@example.com") for i in range(THREADS)], "email"),
    ],
    ids=["same-username", "same-email"],
)
def test_concurrent_registrations_make_exactly_one_user(real_app, real_db, bodies, field):
    responses = race(real_app, bodies)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: THREADS - 1}
    for response in responses:
        if response.status_code == 409:
            assert response.get_json()["details"] == {"field": field}
    assert count(real_db.users) == 1


def test_register_login_profile_on_the_real_server(real_app) -> None:
    client = real_app.test_client()
    registered = client.post(REGISTER, json=user(1))
    assert registered.status_code == 201
    assert client.post(REGISTER, json=user(2, email="user1@example.com")).status_code == 409
    login = client.post("/api/auth/login", json={"username": "user1", "password": "s3cret-pass"})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    profile = client.get("/api/auth/profile", headers=headers).get_json()
    assert profile["id"] == registered.get_json()["user"]["id"]
    assert profile["created_at"].endswith("+00:00")


def test_imported_users_cannot_log_in(real_app, real_db) -> None:
    from app.db.users import upsert_imported

    upsert_imported(real_db, [42])
    response = real_app.test_client().post(
        "/api/auth/login", json={"username": "mal_42", "password": "anything-at-all"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "status"),
    [({"page": "100000", "limit": "100"}, 200), ({"page": "100001"}, 400), ({"limit": "101"}, 400)],
)
def test_page_bounds_hold_on_the_real_server(real_app, query: dict, status: int) -> None:
    response = real_app.test_client().get("/api/anime", query_string=query)
    assert response.status_code == status
    assert response.is_json


def test_64_bit_overflow_is_refused_before_the_database(real_app, real_db) -> None:
    client = real_app.test_client()
    token = client.post(REGISTER, json=user(1)).get_json()["token"]
    before = count(real_db.ratings)
    response = client.post(
        "/api/ratings",
        json={"anime_id": 2**63, "rating": 5},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert count(real_db.ratings) == before


def test_create_admin_on_the_real_server(real_app, real_db) -> None:
    runner = real_app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "root", "--email", "root@example.com", "--password", "x" * 12]
    )
    assert result.exit_code == 0, result.output
    assert real_db.users.find_one({"username": "root"})["is_admin"] is True


def test_database_rate_limit_storage_works_on_the_real_server(real_db) -> None:
    app = create_app(
        TestingConfig({"RATELIMIT_STORAGE_URI": "database://", "RATELIMIT_AUTH": "3/minute"}),
        db=real_db,
    )
    body = {"username": "nobody", "password": "wrong-pass"}
    statuses = [app.test_client().post("/api/auth/login", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    counts = {doc["_id"]: doc["count"] for doc in real_db.rate_limits.find()}
    assert counts["LIMITER/127.0.0.1/auth.Login/3/1/minute"] == 4
