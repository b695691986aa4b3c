"""ml.training.mongo_io: the training CLI's MongoDB adapter."""

from __future__ import annotations

import json
from pathlib import Path

import mongomock
import pytest
from bson import ObjectId

from ml.training import mongo_io


def test_mongo_loader_reads_one_projected_pass_and_writes_metrics() -> None:
    db = mongomock.MongoClient(tz_aware=True)["anime_test"]
    users = [ObjectId(), ObjectId()]
    db.ratings.insert_many(
        [
            {"user_id": users[0], "anime_id": 1, "rating": 8, "created_at": "x"},
            {"user_id": users[1], "anime_id": 20, "rating": 3},
        ]
    )
    frame = mongo_io.load_ratings(db)
    assert list(frame.columns) == ["user_id", "anime_id", "rating"]
    assert frame["user_id"].tolist() == [str(u) for u in users]
    assert frame["rating"].tolist() == [8.0, 3.0]
    assert mongo_io.insert_model_metrics(db, [{"model_name": "ncf", "rmse": 1.0}]) == 1
    assert db.model_metrics.find_one({}, {"_id": 0}) == {"model_name": "ncf", "rmse": 1.0}


def test_resolve_uri(tmp_path: Path) -> None:
    assert mongo_io.resolve_uri("mongodb://db:27017", tmp_path / "x.db") == "mongodb://db:27017"
    (tmp_path / "x.db.port").write_text(json.dumps({"port": 4321, "pid": 1}))
    assert ":4321/" in mongo_io.resolve_uri("embedded", tmp_path / "x.db")
    with pytest.raises(mongo_io.DatabaseUnavailable):
        mongo_io.resolve_uri(None, tmp_path / "missing.db")
