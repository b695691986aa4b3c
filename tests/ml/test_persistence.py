"""ml.training.persistence: the manifest (atomic, corrupt) and saved runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml.training import persistence
from ml.training.pipeline import clean_ratings
from tests.ml.rating_data import watched_and_rated


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

    frame = clean_ratings(watched_and_rated())
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


def test_saved_in_current_format_tells_when_to_train_again(tmp_path: Path) -> None:
    from ml.models import BaselinePredictor

    assert not persistence.saved_in_current_format(tmp_path)  # nothing saved
    model = BaselinePredictor().fit(clean_ratings(watched_and_rated()))
    persistence.save_run(
        {"baseline": model}, tmp_path, metrics={}, data_summary={}, params={}, version="v1"
    )
    assert persistence.saved_in_current_format(tmp_path)
    meta = tmp_path / "versions" / "v1" / "baseline" / "meta.json"
    meta.write_text(meta.read_text().replace('"format": 2', '"format": 1'))
    assert not persistence.saved_in_current_format(tmp_path)  # an older format: train again
