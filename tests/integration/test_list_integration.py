"""The list and the MyAnimeList import on the embedded server (or MONGODB_TEST_URI)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask_jwt_extended import create_access_token
from pymongo.database import Database

from app import create_app
from app.config import TestingConfig
from app.db import anime as anime_db
from app.db import list_entries as list_db
from app.db import ratings as ratings_db
from app.db.common import count
from tests.conftest import SAMPLE_ANIME
from tests.services.mal_exports import BILLION_LAUGHS, gzipped, sample_export

pytestmark = pytest.mark.integration

THREADS = 8
STATUSES = ["watching", "completed", "on_hold", "dropped"] * 2


@pytest.fixture
def real_app(real_db: Database) -> Flask:
    real_db.anime.insert_many([dict(doc) for doc in SAMPLE_ANIME])
    return create_app(TestingConfig({"RATELIMIT_ENABLED": "false"}), db=real_db)


@pytest.fixture
def user(real_db: Database) -> Any:
    return real_db.users.insert_one({"username": "alice", "is_admin": False}).inserted_id


@pytest.fixture
def headers(real_app: Flask, user: Any) -> dict[str, str]:
    with real_app.app_context():
        return {"Authorization": f"Bearer {create_access_token(identity=str(user))}"}


def race(app: Flask, headers: dict[str, str], statuses: list[str]) -> list[Any]:
    """PUT every status on anime 20 at once, one thread and one client each."""
    barrier = threading.Barrier(len(statuses))
    responses: list[Any] = [None] * len(statuses)

    def send(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = client.put(
            "/api/list/20", json={"status": statuses[index]}, headers=headers
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(statuses))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_concurrent_puts_make_exactly_one_entry(real_app, real_db, headers) -> None:
    responses = race(real_app, headers, STATUSES)
    assert Counter(response.status_code for response in responses) == {201: 1, 200: THREADS - 1}
    assert count(real_db.list_entries) == 1
    actions = Counter(entry["action"] for entry in real_db.watch_history.find())
    assert actions["listed"] == 1
    assert actions["listed"] + actions["status_changed"] <= THREADS


def test_the_list_flow_on_the_real_server(real_app, real_db, user, headers) -> None:
    client = real_app.test_client()
    for anime_id, status in [(1, "completed"), (20, "dropped"), (21, "completed")]:
        assert (
            client.put(
                f"/api/list/{anime_id}", json={"status": status}, headers=headers
            ).status_code
            == 201
        )
    assert (
        client.put("/api/list/1", json={"status": "watching"}, headers=headers).status_code == 200
    )
    body = client.get("/api/list", headers=headers).get_json()
    assert [entry["anime_id"] for entry in body["entries"]] == [1, 21, 20]
    assert body["entries"][0]["updated_at"].endswith("+00:00")
    completed = client.get("/api/list?status=completed&limit=1", headers=headers).get_json()
    assert (completed["total"], completed["pages"]) == (1, 1)
    assert client.delete("/api/list/20", headers=headers).status_code == 204
    assert client.delete("/api/list/20", headers=headers).status_code == 404
    assert list_db.status_map_for_user(real_db, user) == {1: "watching", 21: "completed"}
    rows = [row for batch in list_db.iter_for_training(real_db, batch_size=1) for row in batch]
    assert sorted(rows) == [(str(user), 1, "watching"), (str(user), 21, "completed")]
    assert real_db.users.find_one({"_id": user}).get("ratings_changed_at") is not None


def test_the_import_round_trip_on_the_real_server(real_app, real_db, user, headers) -> None:
    client = real_app.test_client()
    client.post("/api/ratings", json={"anime_id": 1, "rating": 4}, headers=headers)
    first = client.post(
        "/api/list/import", data=sample_export(), headers=headers, content_type="application/xml"
    )
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {
        "ratings_imported": 2,
        "ratings_updated": 1,
        "statuses_imported": 5,
        "unknown_anime": 1,
        "skipped": 0,
    }
    assert ratings_db.rating_map_for_user(real_db, user) == {1: 9.0, 21: 8.0, 199: 10.0}
    assert len(list_db.entries_for_user(real_db, user)) == 5
    before = {name: count(real_db[name]) for name in ("ratings", "list_entries", "watch_history")}
    again = client.post(
        "/api/list/import",
        data=gzipped(sample_export()),
        headers=headers,
        content_type="application/gzip",
    )
    assert again.get_json()["ratings_imported"] == again.get_json()["statuses_imported"] == 0
    assert again.get_json()["ratings_updated"] == 0
    bomb = client.post("/api/list/import", data=BILLION_LAUGHS, headers=headers)
    assert bomb.status_code == 400
    after = {name: count(real_db[name]) for name in ("ratings", "list_entries", "watch_history")}
    assert after == before


def test_lookups_the_import_uses_answer_on_the_real_server(real_app, real_db, user) -> None:
    assert anime_db.find_existing_ids(real_db, [1, 20, 4242], chunk_size=2) == {1, 20}
    real_db.ratings.insert_one({"user_id": user, "anime_id": 20, "rating": 7})
    ((anime_id, (rating_id, rating)),) = ratings_db.ids_for_user(real_db, user).items()
    assert (anime_id, rating) == (20, 7)
    assert real_db.ratings.find_one({"_id": rating_id})["anime_id"] == 20
