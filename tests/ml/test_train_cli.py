"""ml.training.train: the training CLI end to end (files, the embedded server, bad arguments)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bson import ObjectId

from ml.training import persistence
from ml.training.pipeline import clean_ratings
from ml.training.train import main as train_main
from tests.ml.rating_data import watched_and_rated

FAST_NCF = ["--epochs", "2", "--batch-size", "64", "--quiet"]


def test_train_cli_all_models(ratings_csv: Path, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    argv = ["--all", "--ratings", str(ratings_csv), "--models-dir", str(models_dir), "--k", "5"]
    assert train_main(argv + FAST_NCF) == 0
    manifest = persistence.read_manifest(models_dir)
    assert manifest is not None
    names = {"baseline", "popularity", "ease", "user_based", "item_based", "ncf", "hybrid"}
    assert set(manifest["models"]) == names
    assert manifest["data"]["n_ratings"] == (watched_and_rated()["rating"] > 0).sum()
    assert manifest["data"]["n_watched"] == (watched_and_rated()["rating"] < 0).sum()
    assert manifest["run"]["split"] == "user" and manifest["run"]["seed"] == 42
    serving = models_dir / "versions" / manifest["version"] / "serving"
    for name in ("user_based", "item_based", "ncf", "hybrid"):  # the lists, as every run writes
        assert (serving / f"{name}.items.npy").is_file()
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
    assert train_main(argv + ["--split", "random", *FAST_NCF]) == 0
    manifest = persistence.read_manifest(tmp_path)
    assert manifest is not None
    assert set(manifest["models"]) == {"ncf", "baseline", "popularity", "ease"}
    assert manifest["run"]["split"] == "random"
    assert 1 <= manifest["models"]["ncf"]["params"]["epochs"] <= 2


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


@pytest.mark.integration
def test_train_cli_reads_the_embedded_server_and_records_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo import MongoClient

    from app.db.embedded import ensure_embedded_server, stop_embedded_server

    db_path = tmp_path / "embedded.db"
    client: MongoClient = MongoClient(ensure_embedded_server(db_path), tz_aware=True)
    try:
        frame = clean_ratings(watched_and_rated())
        ids = {user: ObjectId() for user in frame["user_id"].unique()}
        rated, watched = frame[frame["rating"] > 0], frame[frame["rating"] < 0]
        client["training"].ratings.insert_many(
            [
                {"user_id": ids[user], "anime_id": int(anime), "rating": int(rating)}
                for user, anime, rating in rated.itertuples(index=False)
            ]
        )
        client["training"].watch_history.insert_many(
            [
                {"user_id": ids[user], "anime_id": int(anime), "action": "watched"}
                for user, anime, _ in watched.itertuples(index=False)
            ]
        )
        monkeypatch.setenv("MONGODB_URI", "embedded")
        monkeypatch.setenv("EMBEDDED_DB_PATH", str(db_path))
        monkeypatch.setenv("MONGODB_DB", "training")
        argv = ["--model", "baseline", "--models-dir", str(tmp_path / "models"), "--quiet"]
        assert train_main(argv) == 0
        documents = list(client["training"].model_metrics.find({}, {"_id": 0}))
        assert {d["model_name"] for d in documents} == {"baseline", "popularity", "ease"}
        manifest = persistence.read_manifest(tmp_path / "models")
        assert manifest is not None and manifest["data"]["n_ratings"] == len(rated)
        assert manifest["data"]["n_watched"] == len(watched)
        assert documents[0]["version"] == manifest["version"]
        model = persistence.load_model(tmp_path / "models", "baseline")
        assert model.knows_user(str(next(iter(ids.values()))))
    finally:
        client.close()
        stop_embedded_server(db_path)
