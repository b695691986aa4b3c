"""The dataset import: cleaning, -1 handling, duplicates, orphans and idempotency."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app.db.common import count
from app.services.import_service import (
    import_dataset,
    read_anime_csv,
    read_ratings_csv,
    read_synopses_csv,
)

ANIME_CSV = """anime_id,name,genre,type,episodes,rating,members
1,Cowboy Bebop,"Action, Adventure, Sci-Fi",TV,26,8.82,486824
5,Steins;Gate,"Sci-Fi, Thriller",TV,24,9.17,673572
7,Gintama&#039;,"Action, Comedy",TV,Unknown,9.16,151266
9,No Genre Yet,,,Unknown,,12
"""

RATING_CSV = """user_id,anime_id,rating
1,1,10
1,5,-1
1,7,8
1,7,9
2,1,-1
2,5,7
2,404,9
3,9,-1
3,1,0
"""

SYNOPSES_CSV = """MAL_ID,Name,Score,Genders,sypnopsis
1,Cowboy Bebop,8.78,"Action, Adventure",In the year 2071 a crew of bounty hunters roams space.
5,Steins;Gate,9.1,"Sci-Fi, Thriller",No synopsis information has been added to this title. Help!
"""


@pytest.fixture
def dataset(tmp_path: Path) -> dict[str, Path]:
    files = {"anime": ANIME_CSV, "rating": RATING_CSV, "synopses": SYNOPSES_CSV}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(content)
    return paths


def run_import(db, dataset: dict[str, Path]):
    return import_dataset(
        db,
        read_anime_csv(dataset["anime"]),
        read_ratings_csv(dataset["rating"]),
        synopses=read_synopses_csv(dataset["synopses"]),
    )


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
