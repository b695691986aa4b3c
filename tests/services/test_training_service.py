"""Training service: ratings from the database, top-N precomputation, the pipeline entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymongo.database import Database

from app.db import model_metrics as metrics_db
from app.services import training_service
from app.services.model_registry import load_top_n, top_n_dir
from tests.serving_models import insert_dataset, save_models, tiny_ratings, trained


def test_ratings_frame_reads_every_rating_with_string_user_ids(db: Database) -> None:
    users, ratings = tiny_ratings()
    insert_dataset(db, users, ratings)
    frame = training_service.load_ratings_frame(db)
    assert len(frame) == len(ratings)
    assert set(frame["user_id"]) == {str(user) for user in users}
    merged = frame.merge(ratings, on=["user_id", "anime_id"], suffixes=("", "_given"))
    assert len(merged) == len(ratings)
    assert np.allclose(merged["rating"], merged["rating_given"])


@pytest.mark.parametrize("name", ["user_based", "item_based", "ncf", "hybrid"])
def test_top_n_matches_recommend(name: str) -> None:
    users, _, models = trained()
    model = models[name]
    ids = [str(user) for user in users[:6]]
    items, scores = training_service.top_n_of(model, ids, 5)
    for row, user in enumerate(ids):
        expected = model.recommend(user, 5)
        assert items[row].tolist() == [anime_id for anime_id, _ in expected]
        assert scores[row] == pytest.approx([score for _, score in expected], abs=1e-4)


def test_top_n_pads_when_a_user_has_few_unrated_items() -> None:
    users, _, models = trained()
    items, scores = training_service.top_n_of(models["item_based"], [str(users[0])], 100)
    unrated = 24 - 10
    assert (items[0] >= 0).sum() == unrated and (items[0, unrated:] == -1).all()
    assert np.isnan(scores[0, unrated:]).all()


def test_precompute_writes_every_served_model_atomically(tmp_path: Path) -> None:
    users, _, models = trained()
    save_models(models, tmp_path, "v1")
    names = training_service.precompute_top_n(tmp_path, "v1", k=8)
    assert names == ["user_based", "item_based", "ncf", "hybrid"]
    directory = top_n_dir(tmp_path, "v1")
    assert not list(directory.parent.glob("serving.tmp-*"))
    lists = load_top_n(directory, names)
    assert sorted(lists) == sorted(names)
    found = lists["hybrid"].for_user(str(users[4]))
    assert found is not None and len(found[0]) == 8


def test_precompute_without_a_manifest_does_nothing(tmp_path: Path) -> None:
    assert training_service.precompute_top_n(tmp_path, "v1") == []


def test_train_all_models_publishes_records_metrics_and_precomputes(
    tmp_path: Path, db: Database
) -> None:
    users, ratings = tiny_ratings()
    insert_dataset(db, users, ratings)
    steps: list[tuple[str, float]] = []
    result = training_service.train_all_models(
        db=db, models_dir=tmp_path, names=["item_based"], job_id="job-1",
        progress=lambda step, fraction: steps.append((step, fraction)),
    )  # fmt: skip
    assert set(result["results"]) == {"baseline", "popularity", "item_based"}
    assert result["results"]["item_based"]["rmse"] > 0
    assert "training_time" in result["results"]["item_based"]
    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    latest = metrics_db.latest_for(db, "item_based")
    assert latest is not None and latest["version"] == result["version"]
    assert latest["job_id"] == "job-1"
    assert (top_n_dir(tmp_path, result["version"]) / "item_based.items.npy").exists()
    model = training_service.load_model(tmp_path, "item_based")
    assert model.knows_user(str(users[0]))
