"""Admin service: dashboard statistics (aggregations, cached) and model metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bson import ObjectId
from pymongo.database import Database

from app.db import model_metrics as metrics_db
from app.services import admin_service
from app.services.model_registry import ModelRegistry
from app.services.ttl_cache import TtlCache


def seed(db: Database, sample_anime: list) -> None:
    alice, bob = ObjectId(), ObjectId()
    db.users.insert_many([{"_id": alice, "username": "alice"}, {"_id": bob, "username": "bob"}])
    db.ratings.insert_many(
        [
            {"user_id": alice, "anime_id": 1, "rating": 9},
            {"user_id": alice, "anime_id": 20, "rating": 7},
            {"user_id": bob, "anime_id": 1, "rating": 9},
            {"user_id": bob, "anime_id": 21, "rating": 10},
        ]
    )


def test_stats_counts_distribution_genres_and_most_rated(db, sample_anime) -> None:
    seed(db, sample_anime)
    stats = admin_service.get_stats(db=db, cache=TtlCache(30))
    assert (stats["users"], stats["anime"], stats["ratings"]) == (2, 5, 4)
    assert list(stats["rating_distribution"]) == [str(value) for value in range(1, 11)]
    assert stats["rating_distribution"]["9"] == 2 and stats["rating_distribution"]["1"] == 0
    assert stats["top_genres"][0] == {"genre": "Action", "count": 4}
    assert stats["most_rated_anime"][0] == {"anime_id": 1, "ratings": 2, "name": "Cowboy Bebop"}
    assert len(stats["most_rated_anime"]) == 3


def test_stats_are_cached_for_the_configured_time(db, sample_anime) -> None:
    seed(db, sample_anime)
    cache = TtlCache(3600)
    first = admin_service.get_stats(db=db, cache=cache)
    db.ratings.insert_one({"user_id": ObjectId(), "anime_id": 199, "rating": 8})
    assert admin_service.get_stats(db=db, cache=cache) is first
    fresh = admin_service.get_stats(db=db, cache=TtlCache(0))
    assert fresh["ratings"] == 5


def test_metrics_latest_per_model_history_and_serving_state(db, tmp_path: Path) -> None:
    older = datetime(2026, 1, 1, tzinfo=UTC)
    newer = older + timedelta(days=1)
    job = ObjectId()
    metrics_db.insert_run(
        db,
        [
            {"model_name": "ncf", "rmse": 1.30, "trained_at": older, "version": "a"},
            {"model_name": "ncf", "rmse": 1.20, "trained_at": newer, "version": "b", "job_id": job},
            {"model_name": "item_based", "rmse": 1.25, "trained_at": newer, "version": "b"},
        ],
    )
    registry = ModelRegistry(tmp_path, background=False)
    answer = admin_service.get_metrics(db=db, registry=registry)
    assert answer["metrics"]["ncf"]["rmse"] == 1.20
    assert answer["metrics"]["ncf"]["job_id"] == str(job)
    assert answer["metrics"]["user_based"] == {}
    assert answer["last_trained"].replace(tzinfo=UTC) == newer
    assert [doc["version"] for doc in answer["history"]][:1] == ["b"]
    assert len(answer["history"]) == 3
    assert answer["serving"]["state"] == "not_loaded"
    assert answer["jobs"] == []
