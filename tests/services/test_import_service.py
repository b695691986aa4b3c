"""The dataset import: cleaning, -1 handling, duplicates, orphans and idempotency."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from app.db.common import count
from app.services.import_service import read_anime_csv, read_ratings_csv
from tests.services.import_fixtures import RATING_CSV, run_import


def test_anime_are_cleaned(db, dataset) -> None:
    run_import(db, dataset)
    gintama = db.anime.find_one({"anime_id": 7}, {"_id": 0})
    assert gintama["name"] == "Gintama'"
    assert gintama["episodes"] is None
    assert gintama["genre"] == "Action, Comedy"
    bare = db.anime.find_one({"anime_id": 9}, {"_id": 0})
    assert bare["genre"] is None and bare["type"] is None and bare["rating"] is None
    assert db.anime.find_one({"anime_id": 1})["description"].startswith("In the year 2071")
    assert db.anime.find_one({"anime_id": 5})["description"] is None


def test_ratings_minus_one_duplicates_and_orphans(db, dataset) -> None:
    summary = run_import(db, dataset)
    assert summary.ratings_read == 3
    assert summary.duplicates_resolved == 1
    assert summary.orphans_skipped == 1
    assert summary.invalid_skipped == 1
    assert summary.watched_read == 3
    assert count(db.ratings) == 3
    user_1 = db.users.find_one({"username": "mal_1"})
    assert user_1["password_hash"] is None
    assert db.ratings.find_one({"user_id": user_1["_id"], "anime_id": 7})["rating"] == 9
    watched = {
        (doc["user_id"], doc["anime_id"]) for doc in db.watch_history.find({"action": "watched"})
    }
    assert (user_1["_id"], 5) in watched
    assert count(db.users) == 3


def test_reimport_changes_nothing(db, dataset) -> None:
    run_import(db, dataset)
    snapshot = {
        name: sorted(map(str, db[name].find({}, {"_id": 0})))
        for name in ("anime", "users", "ratings", "watch_history")
    }
    summary = run_import(db, dataset)
    assert summary.anime_inserted == summary.anime_updated == 0
    assert summary.ratings_inserted == summary.ratings_updated == 0
    assert summary.watched_inserted == 0
    for name, documents in snapshot.items():
        assert sorted(map(str, db[name].find({}, {"_id": 0}))) == documents


def test_changed_rating_is_updated_and_interrupted_import_completes(db, dataset) -> None:
    run_import(db, dataset)
    db.ratings.delete_many({"anime_id": 5})
    dataset["rating"].write_text(RATING_CSV.replace("1,1,10", "1,1,6"))
    summary = run_import(db, dataset)
    assert summary.ratings_updated == 1
    assert summary.ratings_inserted == 1
    user_1 = db.users.find_one({"username": "mal_1"})
    assert db.ratings.find_one({"user_id": user_1["_id"], "anime_id": 1})["rating"] == 6


def test_sample_files_parse() -> None:
    sample = Path(__file__).resolve().parents[2] / "data" / "sample"
    anime = read_anime_csv(sample / "anime.csv")
    ratings = read_ratings_csv(sample / "rating.csv")
    assert len(anime) == 12294
    assert len(ratings) == 100872
    assert isinstance(anime, pd.DataFrame)
    assert "&#039;" not in " ".join(anime["name"])


def stamped_users(db) -> set[str]:
    return {doc["username"] for doc in db.users.find({"ratings_changed_at": {"$exists": True}})}


def test_users_whose_ratings_the_import_writes_are_stamped(db, dataset) -> None:
    run_import(db, dataset)
    assert stamped_users(db) == {"mal_1", "mal_2"}
    db.users.update_many({}, {"$unset": {"ratings_changed_at": ""}})
    run_import(db, dataset)
    assert stamped_users(db) == set()
    dataset["rating"].write_text(RATING_CSV.replace("2,5,7", "2,5,3"))
    run_import(db, dataset)
    assert stamped_users(db) == {"mal_2"}
