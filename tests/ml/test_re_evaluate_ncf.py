"""ml.training.re_evaluate_ncf: re-evaluating a saved NCF on ratings it was not trained on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml.training import persistence
from ml.training.pipeline import clean_ratings
from ml.training.re_evaluate_ncf import main as re_evaluate_main
from ml.training.re_evaluate_ncf import re_evaluate
from ml.training.train import main as train_main
from tests.ml.rating_data import watched_and_rated

FAST_NCF = ["--epochs", "2", "--batch-size", "64", "--quiet"]


def test_re_evaluate_ncf_uses_only_ratings_it_was_not_trained_on(
    ratings_csv: Path, tmp_path: Path
) -> None:
    argv = ["--model", "ncf", "--ratings", str(ratings_csv), "--models-dir", str(tmp_path)]
    assert train_main(argv + FAST_NCF) == 0
    manifest = persistence.read_manifest(tmp_path)
    assert manifest is not None
    current = clean_ratings(watched_and_rated())
    new_user = pd.DataFrame({"user_id": [999, 999], "anime_id": [100, 101], "rating": [9, 2]})
    result = re_evaluate(tmp_path, pd.concat([current, new_user]))
    run = manifest["run"]
    assert run["refitted"]  # trained on all of the training split: the test rows are held out
    assert result["n_held_out"] == run["n_test"] + 2
    assert result["n_fallback"] >= 2  # the new user is answered by the baseline
    assert result["version"] == manifest["models"]["ncf"]["version"]
    assert 0 < result["metrics"]["rmse"] < 5
    assert re_evaluate_main(["--ratings", str(ratings_csv), "--models-dir", str(tmp_path)]) == 0
    assert list((tmp_path / "reports").glob("*-ncf-reevaluation-*.json"))
