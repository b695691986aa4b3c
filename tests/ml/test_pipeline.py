"""ml.training.pipeline: progress reports, metric documents and the artefacts of a run."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.training.persistence import load_model, read_manifest
from ml.training.pipeline import clean_ratings, run_beside, train_models
from ml.training.top_n import load_top_n, top_n_dir
from tests.ml.rating_data import watched_and_rated


def test_train_models_reports_progress_and_metric_documents(tmp_path: Path) -> None:
    steps: list[tuple[str, float]] = []
    result = train_models(
        watched_and_rated(),
        ["item_based"],
        models_dir=tmp_path,
        progress=lambda step, fraction: steps.append((step, fraction)),
    )
    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"training item_based", "evaluating item_based", "done"} <= {s for s, _ in steps}
    documents = result.metric_documents()
    assert {d["model_name"] for d in documents} == {"item_based", "baseline", "popularity", "ease"}
    metric_fields = {"model_name", "rmse", "mae", "precision_at_k", "recall_at_k", "ndcg_at_k"}
    metric_fields |= {
        "coverage",
        "k",
        "training_time",
        "trained_at",
        "version",
        "n_train",
        "n_test",
    }
    metric_fields |= {"split", "params"}
    assert all(metric_fields <= set(d) for d in documents)
    assert documents[0]["version"] == result.version
    assert documents[0]["trained_at"].tzinfo is not None


def test_a_run_publishes_models_and_lists_that_leave_out_the_snapshot(tmp_path: Path) -> None:
    """The lists are each training user's recommend() minus the rest of the snapshot (test rows,
    excluded anime), and record when the snapshot was read."""
    ratings = watched_and_rated()
    excluded = pd.DataFrame({"user_id": [1, 2], "anime_id": [100, 101]})
    read_at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    result = train_models(
        ratings, ["item_based"], models_dir=tmp_path, ratings_as_of=read_at, excluded=excluded
    )
    manifest = read_manifest(tmp_path)
    assert manifest is not None and manifest["version"] == result.version
    assert set(manifest["models"]) == {"baseline", "popularity", "ease", "item_based"}
    lists = load_top_n(top_n_dir(tmp_path, result.version), ["item_based", "baseline"])
    assert set(lists) == {"item_based"}  # only the served models have lists
    top = lists["item_based"]
    assert top.ratings_as_of == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    model = load_model(tmp_path, "item_based")
    snapshot = pd.concat([clean_ratings(ratings), excluded])
    for user in (1, 2, 3):
        found = top.for_user(str(user))
        assert found is not None
        items, predicted, because = found
        own = set(snapshot.loc[snapshot["user_id"] == user, "anime_id"])
        expected = model.recommend(user, n=100, exclude=own)
        listed = items[items >= 0].tolist()
        assert listed == [anime for anime, _ in expected] and not own & set(listed)
        assert np.allclose(predicted[: len(listed)], [r for _, r in expected])
        assert because is not None and because.shape == (len(items), 3)


def test_run_beside_trains_ncf_in_a_second_thread_and_the_hybrid_after_it() -> None:
    events: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        with lock:
            events.append(("start", name, threading.current_thread().name))
        if name == "ncf":
            time.sleep(0.2)
        with lock:
            events.append(("end", name, threading.current_thread().name))

    run_beside(["ease", "user_based", "ncf", "hybrid"], work)

    main = threading.current_thread().name
    threads = {name: thread for kind, name, thread in events if kind == "start"}
    assert threads["ncf"] != main and threads["ease"] == main == threads["hybrid"]
    order = [(kind, name) for kind, name, _ in events]
    assert order.index(("start", "ncf")) < order.index(("end", "ease"))  # side by side
    assert order.index(("end", "ncf")) < order.index(("start", "hybrid"))


def test_run_beside_raises_what_the_second_thread_raised() -> None:
    def work(name: str) -> None:
        if name == "ncf":
            raise ValueError("ncf failed")

    with pytest.raises(ValueError, match="ncf failed"):
        run_beside(["ease", "ncf"], work)
