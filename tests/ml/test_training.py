"""Training pipeline: metrics by hand, the manifest, the CLI end to end, re-evaluation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import mongomock
import numpy as np
import pandas as pd
import pytest
from bson import ObjectId

from ml.training import mongo_io, persistence
from ml.training.evaluate import (
    EvaluationConfig,
    ranking_metrics,
    ranking_scores,
    rating_errors,
    relevance_threshold,
)
from ml.training.pipeline import clean_ratings, train_models
from ml.training.re_evaluate_ncf import main as re_evaluate_main
from ml.training.re_evaluate_ncf import re_evaluate
from ml.training.sources import read_ratings_file
from ml.training.train import main as train_main

FAST_NCF = ["--epochs", "2", "--batch-size", "64", "--quiet"]


def ratings_frame(n_users: int = 30, n_items: int = 15, seed: int = 0) -> pd.DataFrame:
    """Two taste groups on a 1-10 scale, ~70% dense, plus -1 (watched, not rated) rows."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        for i in range(n_items):
            if rng.random() < 0.7:
                base = 8.5 if (i + u) % 2 else 4.0
                rows.append((u + 1, 100 + i, int(np.clip(round(base + rng.normal(0, 1)), 1, 10))))
            elif rng.random() < 0.3:
                rows.append((u + 1, 100 + i, -1))
    return pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    path = tmp_path / "rating.csv"
    ratings_frame().to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------- evaluate


def test_rating_errors_by_hand() -> None:
    errors = rating_errors(np.array([4.0, 2.0, 5.0]), np.array([3.0, 2.0, 7.0]))
    assert errors["mae"] == pytest.approx((1 + 0 + 2) / 3)
    assert errors["rmse"] == pytest.approx(np.sqrt((1 + 0 + 4) / 3))


def test_relevance_threshold_is_a_fraction_of_the_scale() -> None:
    assert relevance_threshold(1, 10) == 7.75
    assert relevance_threshold(1, 5) == 4.0


def test_ranking_scores_by_hand() -> None:
    # hits at ranks 1 and 3 of 4; 3 relevant items (one never recommended)
    precision, recall, ndcg = ranking_scores(["a", "x", "b", "y"], {"a", "b", "c"}, k=4)
    assert precision == pytest.approx(2 / 4)
    assert recall == pytest.approx(2 / 3)
    dcg = 1 / np.log2(2) + 1 / np.log2(4)
    idcg = 1 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(4)
    assert ndcg == pytest.approx(dcg / idcg)
    assert ranking_scores(["a"], {"a"}, k=1) == (1.0, 1.0, 1.0)


class FixedRanker:
    """A stand-in model that recommends a fixed list to everyone."""

    rating_min, rating_max = 1.0, 10.0
    items = ["a", "b", "c", "d", "e"]

    def recommend(self, user: Any, n: int = 10) -> list[tuple[Any, float]]:
        return [(item, 9.0) for item in ["a", "b"][:n]]


def test_ranking_metrics_over_users_with_relevant_items() -> None:
    test = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u3"],
            "anime_id": ["a", "c", "b", "a"],
            "rating": [9, 8, 10, 3],  # u3 has nothing relevant: not ranked
        }
    )
    metrics = ranking_metrics(FixedRanker(), test, EvaluationConfig(k=2))  # type: ignore[arg-type]
    assert metrics["n_ranked_users"] == 2
    assert metrics["precision_at_k"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert metrics["recall_at_k"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg_u1 = 1.0 / (1.0 + 1 / np.log2(3))  # hit at rank 1 of 2 relevant
    ndcg_u2 = (1 / np.log2(3)) / 1.0  # hit at rank 2 of 1 relevant
    assert metrics["ndcg_at_k"] == pytest.approx((ndcg_u1 + ndcg_u2) / 2)
    assert metrics["coverage"] == pytest.approx(2 / 5)
    sampled = ranking_metrics(FixedRanker(), test, EvaluationConfig(k=2, max_users=1))  # type: ignore[arg-type]
    assert sampled["n_ranked_users"] == 1


# ------------------------------------------------------------------------- persistence


def test_manifest_is_replaced_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    persistence.write_manifest(tmp_path, {"version": "1"})
    assert persistence.read_manifest(tmp_path) == {"version": "1"}

    def broken_replace(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        persistence.write_manifest(tmp_path, {"version": "2"})
    assert persistence.read_manifest(tmp_path) == {"version": "1"}
    assert [p.name for p in tmp_path.iterdir()] == [persistence.MANIFEST_FILE]


def test_read_manifest_missing_or_corrupt(tmp_path: Path) -> None:
    assert persistence.read_manifest(tmp_path) is None
    (tmp_path / persistence.MANIFEST_FILE).write_text("{not json")
    assert persistence.read_manifest(tmp_path) is None


def test_save_run_keeps_models_not_retrained_and_prunes_old_versions(tmp_path: Path) -> None:
    from ml.models import BaselinePredictor, PopularityRecommender

    frame = clean_ratings(ratings_frame())
    baseline, popularity = BaselinePredictor().fit(frame), PopularityRecommender().fit(frame)
    common = {"metrics": {}, "data_summary": {"n_ratings": len(frame)}, "params": {}}
    first = persistence.save_run({"baseline": baseline}, tmp_path, version="v1", **common)
    versions = [
        persistence.save_run({"popularity": popularity}, tmp_path, version=f"v{n}", **common)
        for n in range(2, 6)
    ]
    manifest = persistence.read_manifest(tmp_path)
    assert manifest is not None and manifest["version"] == versions[-1]
    assert manifest["models"]["baseline"]["path"] == f"versions/{first}/baseline"
    kept = {p.name for p in (tmp_path / "versions").iterdir()}
    assert kept == {"v1", "v5", "v4", "v3"}  # v1 still serves the baseline
    loaded = persistence.load_model(tmp_path, "baseline")
    assert loaded.predict(1, 100) == baseline.predict(1, 100)


# ------------------------------------------------------------------------- the CLI


def test_read_ratings_file_drops_watched_only_rows(ratings_csv: Path) -> None:
    frame = read_ratings_file(ratings_csv)
    assert (frame["rating"] >= 1).all()
    assert len(frame) == (ratings_frame()["rating"] > 0).sum()


def test_read_ratings_file_reads_movielens_udata(tmp_path: Path) -> None:
    path = tmp_path / "u.data"
    path.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    frame = read_ratings_file(path)
    assert frame.to_dict("list") == {
        "user_id": [196, 186],
        "anime_id": [242, 302],
        "rating": [3, 3],
    }


def test_train_cli_all_models(ratings_csv: Path, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    argv = ["--all", "--ratings", str(ratings_csv), "--models-dir", str(models_dir), "--k", "5"]
    assert train_main(argv + FAST_NCF) == 0
    manifest = persistence.read_manifest(models_dir)
    assert manifest is not None
    names = {"baseline", "popularity", "user_based", "item_based", "ncf", "hybrid"}
    assert set(manifest["models"]) == names
    assert manifest["data"]["n_ratings"] == (ratings_frame()["rating"] > 0).sum()
    assert manifest["run"]["split"] == "random" and manifest["run"]["seed"] == 42
    ncf_dir = models_dir / manifest["models"]["ncf"]["path"]
    assert (ncf_dir / "neural_cf.pt").is_file()
    for name in names:
        metrics = manifest["models"][name]["metrics"]
        assert 0 < metrics["rmse"] < 5 and 0 <= metrics["ndcg_at_k"] <= 1 and metrics["k"] == 5
        assert persistence.load_model(models_dir, name, manifest).predict(1, 100) >= 1
    version = manifest["version"]
    for suffix in (".md", ".png", ".json"):
        assert (models_dir / "reports" / f"{version}{suffix}").stat().st_size > 0
    report = (models_dir / "reports" / f"{version}.md").read_text()
    assert "| baseline |" in report and "| popularity |" in report and "| ncf |" in report


def test_train_cli_one_model_adds_the_references(ratings_csv: Path, tmp_path: Path) -> None:
    argv = ["--model", "ncf", "--ratings", str(ratings_csv), "--models-dir", str(tmp_path)]
    assert train_main(argv + ["--split", "user", *FAST_NCF]) == 0
    manifest = persistence.read_manifest(tmp_path)
    assert manifest is not None
    assert set(manifest["models"]) == {"ncf", "baseline", "popularity"}
    assert manifest["run"]["split"] == "user"
    assert manifest["models"]["ncf"]["params"]["epochs"] == 2


def test_train_cli_without_database_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MONGODB_URI", "embedded")
    monkeypatch.setenv("EMBEDDED_DB_PATH", str(tmp_path / "absent.db"))
    assert train_main(["--all", "--models-dir", str(tmp_path), "--quiet"]) == 1
    assert "--ratings" in caplog.text and "start the app" in caplog.text
    assert persistence.read_manifest(tmp_path) is None


def test_train_cli_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--model", "nope"], ["--all", "--test-size", "1.5"], []):
        with pytest.raises(SystemExit) as exit_info:
            train_main(argv)
        assert exit_info.value.code == 2


def test_train_models_reports_progress_and_metric_documents(tmp_path: Path) -> None:
    steps: list[tuple[str, float]] = []
    result = train_models(
        ratings_frame(),
        ["item_based"],
        models_dir=tmp_path,
        progress=lambda step, fraction: steps.append((step, fraction)),
    )
    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"training item_based", "evaluating item_based", "done"} <= {s for s, _ in steps}
    documents = result.metric_documents()
    assert {d["model_name"] for d in documents} == {"item_based", "baseline", "popularity"}
    seed_keys = {"model_name", "rmse", "mae", "precision_at_k", "recall_at_k", "ndcg_at_k"}
    seed_keys |= {"coverage", "k", "training_time", "trained_at", "version", "n_train", "n_test"}
    seed_keys |= {"split", "params"}
    assert all(seed_keys <= set(d) for d in documents)
    assert documents[0]["version"] == result.version
    assert documents[0]["trained_at"].tzinfo is not None


# ------------------------------------------------------------------------- MongoDB adapter


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


# ------------------------------------------------------------------------- re-evaluation


def test_re_evaluate_ncf_uses_only_ratings_it_was_not_trained_on(
    ratings_csv: Path, tmp_path: Path
) -> None:
    argv = ["--model", "ncf", "--ratings", str(ratings_csv), "--models-dir", str(tmp_path)]
    assert train_main(argv + FAST_NCF) == 0
    manifest = persistence.read_manifest(tmp_path)
    assert manifest is not None
    current = clean_ratings(ratings_frame())
    new_user = pd.DataFrame({"user_id": [999, 999], "anime_id": [100, 101], "rating": [9, 2]})
    result = re_evaluate(tmp_path, pd.concat([current, new_user]))
    run = manifest["run"]
    assert result["n_held_out"] == run["n_validation"] + run["n_test"] + 2
    assert result["n_fallback"] >= 2  # the new user is answered by the baseline
    assert result["version"] == manifest["models"]["ncf"]["version"]
    assert 0 < result["metrics"]["rmse"] < 5
    assert re_evaluate_main(["--ratings", str(ratings_csv), "--models-dir", str(tmp_path)]) == 0
    assert list((tmp_path / "reports").glob("*-ncf-reevaluation-*.json"))


@pytest.mark.integration
def test_train_cli_reads_the_embedded_server_and_records_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo import MongoClient

    from app.db.embedded import ensure_embedded_server, stop_embedded_server

    db_path = tmp_path / "embedded.db"
    client: MongoClient = MongoClient(ensure_embedded_server(db_path), tz_aware=True)
    try:
        frame = clean_ratings(ratings_frame())
        ids = {user: ObjectId() for user in frame["user_id"].unique()}
        client["training"].ratings.insert_many(
            [
                {"user_id": ids[user], "anime_id": int(anime), "rating": int(rating)}
                for user, anime, rating in frame.itertuples(index=False)
            ]
        )
        monkeypatch.setenv("MONGODB_URI", "embedded")
        monkeypatch.setenv("EMBEDDED_DB_PATH", str(db_path))
        monkeypatch.setenv("MONGODB_DB", "training")
        argv = ["--model", "baseline", "--models-dir", str(tmp_path / "models"), "--quiet"]
        assert train_main(argv) == 0
        documents = list(client["training"].model_metrics.find({}, {"_id": 0}))
        assert {d["model_name"] for d in documents} == {"baseline", "popularity"}
        manifest = persistence.read_manifest(tmp_path / "models")
        assert manifest is not None and manifest["data"]["n_ratings"] == len(frame)
        assert documents[0]["version"] == manifest["version"]
        model = persistence.load_model(tmp_path / "models", "baseline")
        assert model.knows_user(str(next(iter(ids.values()))))
    finally:
        client.close()
        stop_embedded_server(db_path)
