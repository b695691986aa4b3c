"""ml.training.pipeline: progress reports and the model_metrics documents of a run."""

from __future__ import annotations

from pathlib import Path

from ml.training.pipeline import train_models
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
    assert {d["model_name"] for d in documents} == {"item_based", "baseline", "popularity"}
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
