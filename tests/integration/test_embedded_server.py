"""The embedded nx-27017 server: shared per machine, persistent, with the app's indexes."""

from __future__ import annotations

import pytest
from pymongo import TEXT, MongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure

from app import create_app
from app.config import TestingConfig
from app.db.common import count, on_embedded_server, server_time
from app.db.embedded import ensure_embedded_server, stop_embedded_server
from app.db.indexes import ensure_indexes
from app.db.users import mark_ratings_changed

pytestmark = pytest.mark.integration


def test_second_caller_finds_the_running_server_and_data_survives_restart(tmp_path) -> None:
    db_path = tmp_path / "anime.db"
    first = ensure_embedded_server(db_path)
    assert ensure_embedded_server(db_path) == first
    client: MongoClient = MongoClient(first)
    client.anime_test.anime.insert_one({"anime_id": 1, "name": "Cowboy Bebop"})
    client.close()

    assert stop_embedded_server(db_path)
    restarted = ensure_embedded_server(db_path)
    try:
        client = MongoClient(restarted)
        assert client.anime_test.anime.find_one({"anime_id": 1})["name"] == "Cowboy Bebop"
        client.close()
    finally:
        stop_embedded_server(db_path)


def test_unique_indexes_hold_on_the_real_server(real_db) -> None:
    ensure_indexes(real_db)
    ensure_indexes(real_db)
    real_db.users.insert_one({"username": "alice", "email": "a@example.com"})
    real_db.users.insert_many([{"username": "mal_1"}, {"username": "mal_2"}])
    with pytest.raises(DuplicateKeyError):
        real_db.users.insert_one({"username": "alice", "email": "other@example.com"})
    with pytest.raises(DuplicateKeyError):
        real_db.users.insert_one({"username": "bob", "email": "a@example.com"})
    real_db.ratings.insert_one({"user_id": 1, "anime_id": 5, "rating": 7})
    with pytest.raises(DuplicateKeyError):
        real_db.ratings.insert_one({"user_id": 1, "anime_id": 5, "rating": 8})
    assert count(real_db.users) == 3


def test_app_health_on_the_embedded_server(mongodb_uri) -> None:
    app = create_app(TestingConfig({"MONGODB_URI": mongodb_uri, "MONGODB_DB": "health_test"}))
    response = app.test_client().get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert body["models"]["state"] == "empty"  # no trained models: reported, still 200


def test_server_time_is_the_clock_that_current_date_stamps(real_db) -> None:
    before = server_time(real_db)
    user = real_db.users.insert_one({"username": "clock"}).inserted_id
    mark_ratings_changed(real_db, [user])
    stamp = real_db.users.find_one({"_id": user})["ratings_changed_at"]
    after = server_time(real_db)
    assert before is not None and after is not None and before.tzinfo is not None
    assert before <= stamp <= after


def test_text_index_is_created_on_an_empty_database(real_db) -> None:
    ensure_indexes(real_db)
    real_db.anime.insert_one({"anime_id": 1, "name": "Cowboy Bebop"})
    ensure_indexes(real_db)  # again, now that the collection has documents
    if on_embedded_server(real_db):
        # nx-27017 lists no text index but refuses to create one that is already there.
        with pytest.raises(OperationFailure):
            real_db.anime.create_index([("name", TEXT)], name="name_text")
    else:
        assert "name_text" in real_db.anime.index_information()
    found = real_db.anime.find_one({"$text": {"$search": "bebop"}})
    assert found is not None and found["anime_id"] == 1
