"""ml.training.mongo_io: the training CLI's MongoDB adapter."""

from __future__ import annotations

import json
from pathlib import Path

import mongomock
import pytest
from bson import ObjectId

from ml.training import mongo_io


def test_mongo_loader_reads_ratings_watched_and_list_entries_and_writes_metrics() -> None:
    db = mongomock.MongoClient(tz_aware=True)["anime_test"]
    users = [ObjectId(), ObjectId()]
    db.ratings.insert_many(
        [
            {"user_id": users[0], "anime_id": 1, "rating": 8, "created_at": "x"},
            {"user_id": users[1], "anime_id": 20, "rating": 3},
        ]
    )
    db.watch_history.insert_many(
        [
            {"user_id": users[0], "anime_id": 5, "action": "watched"},
            {"user_id": users[0], "anime_id": 1, "action": "rated", "rating": 8},
        ]
    )
    db.list_entries.insert_many(
        [
            {"user_id": users[1], "anime_id": 7, "status": "completed"},
            {"user_id": users[1], "anime_id": 8, "status": "not_interested"},
            {"user_id": users[1], "anime_id": 9, "status": "dropped"},
        ]
    )
    data = mongo_io.load_training_data(db)
    frame = data.ratings
    assert list(frame.columns) == ["user_id", "anime_id", "rating"]
    assert frame.to_dict("list") == {
        "user_id": [str(users[0]), str(users[1]), str(users[0]), str(users[1])],
        "anime_id": [1, 20, 5, 7],
        "rating": [8.0, 3.0, -1.0, -1.0],
    }
    assert data.excluded is not None
    assert data.excluded.to_dict("list") == {
        "user_id": [str(users[1])] * 2,
        "anime_id": [8, 9],
    }
    assert mongo_io.insert_model_metrics(db, [{"model_name": "ncf", "rmse": 1.0}]) == 1
    assert db.model_metrics.find_one({}, {"_id": 0}) == {"model_name": "ncf", "rmse": 1.0}


def test_resolve_uri(tmp_path: Path) -> None:
    assert mongo_io.resolve_uri("mongodb://db:27017", tmp_path / "x.db") == "mongodb://db:27017"
    (tmp_path / "x.db.port").write_text(json.dumps({"port": 4321, "pid": 1}))
    assert ":4321/" in mongo_io.resolve_uri("embedded", tmp_path / "x.db")
    with pytest.raises(mongo_io.DatabaseUnavailable):
        mongo_io.resolve_uri(None, tmp_path / "missing.db")
