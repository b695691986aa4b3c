"""Training service: what it reads from the database, and the pipeline run it starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from pymongo.database import Database

from app.db import model_metrics as metrics_db
from app.services import list_service, training_service
from ml.training.top_n import load_top_n, top_n_dir
from tests.serving_models import insert_dataset, tiny_ratings


def test_training_data_is_every_rating_watched_entry_and_list_entry(db: Database) -> None:
    users, ratings = tiny_ratings()
    insert_dataset(db, users, ratings)
    db.watch_history.insert_one({"user_id": users[0], "anime_id": 99, "action": "watched"})
    rated = set(ratings.loc[ratings["user_id"] == str(users[1]), "anime_id"])
    unrated = sorted(set(range(1, 25)) - rated)
    list_service.set_status(users[1], unrated[0], "watching", db=db)
    list_service.set_status(users[1], unrated[1], "not_interested", db=db)
    data = training_service.read_training_data(db)
    frame = data.ratings
    explicit = frame[frame["rating"] >= 0]
    assert len(explicit) == len(ratings)
    assert set(explicit["user_id"]) == {str(user) for user in users}
    merged = explicit.merge(ratings, on=["user_id", "anime_id"], suffixes=("", "_given"))
    assert len(merged) == len(ratings) and np.allclose(merged["rating"], merged["rating_given"])
    watched = frame[frame["rating"] < 0]
    assert set(zip(watched["user_id"], watched["anime_id"], strict=True)) == {
        (str(users[0]), 99),
        (str(users[1]), unrated[0]),
    }
    assert data.excluded is not None
    assert data.excluded.to_dict("list") == {"user_id": [str(users[1])], "anime_id": [unrated[1]]}
    assert data.read_at is not None
    assert abs(data.read_at - datetime.now(UTC)) < timedelta(minutes=10)


def test_train_all_models_publishes_records_metrics_and_lists(tmp_path: Path, db: Database) -> None:
    users, ratings = tiny_ratings()
    insert_dataset(db, users, ratings)
    steps: list[tuple[str, float]] = []
    result = training_service.train_all_models(
        db=db, models_dir=tmp_path, names=["item_based"], job_id="job-1",
        progress=lambda step, fraction: steps.append((step, fraction)),
    )  # fmt: skip
    assert set(result["results"]) == {"baseline", "popularity", "ease", "item_based"}
    assert result["results"]["item_based"]["rmse"] > 0
    assert "training_time" in result["results"]["item_based"]
    assert 0 <= result["results"]["item_based"]["ndcg_at_k"] <= 1
    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    latest = metrics_db.latest_for(db, "item_based")
    assert latest is not None and latest["version"] == result["version"]
    assert latest["job_id"] == "job-1"
    lists = load_top_n(top_n_dir(tmp_path, result["version"]), ["item_based"])
    assert lists["item_based"].ratings_as_of is not None
    model = training_service.load_model(tmp_path, "item_based")
    assert model.knows_user(str(users[0]))
