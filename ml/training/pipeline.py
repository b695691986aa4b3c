"""One training run: split, fit, evaluate once on the test set, save, publish, report.

``train_models`` is the single entry point of the training CLI (ml.training.train) and of the
admin training jobs. The test set is used once, after every model is fitted; a validation part
carved out of the training split serves early stopping and blend weights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.data import RATING_COLUMNS
from ml.exceptions import DataError
from ml.models.base import Recommender
from ml.splits import per_user_split, random_split, validation_split
from ml.training.evaluate import EvaluationConfig, evaluate_model
from ml.training.individual_trainers import (
    COST,
    ProgressFn,
    TrainContext,
    TrainOptions,
    run_order,
    train_one,
)
from ml.training.persistence import new_version, save_run
from ml.training.report import REPORTS_DIR, write_report

log = logging.getLogger(__name__)

SPLITS = ("random", "user")
VALIDATION_FRACTION = 0.1
METRIC_KEYS = ("rmse", "mae", "precision_at_k", "recall_at_k", "ndcg_at_k", "coverage", "k")


@dataclass
class RunResult:
    """What a run produced: its version, per-model metrics and where the report is."""

    version: str
    trained_at: datetime
    metrics: dict[str, dict[str, Any]]
    training_times: dict[str, float]
    params: dict[str, dict[str, Any]]
    data: dict[str, Any]
    run: dict[str, Any]
    report_paths: dict[str, Path] = field(default_factory=dict)

    def metric_documents(self) -> list[dict[str, Any]]:
        """One model_metrics document per model (the seed's schema plus the run settings)."""
        documents = []
        for name, metrics in self.metrics.items():
            document: dict[str, Any] = {"model_name": name}
            document.update({key: metrics.get(key) for key in METRIC_KEYS})
            document.update(
                training_time=self.training_times.get(name),
                trained_at=self.trained_at,
                version=self.version,
                n_train=self.run["n_train"],
                n_test=self.run["n_test"],
                split=self.run["split"],
                test_size=self.run["test_size"],
                seed=self.run["seed"],
                params=self.params.get(name, {}),
            )
            documents.append(document)
        return documents


def clean_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """user_id, anime_id, rating rows that are ratings: no NaN, no negative (-1 = watched only)."""
    missing = [column for column in RATING_COLUMNS if column not in ratings.columns]
    if missing:
        raise DataError(f"ratings are missing columns: {', '.join(missing)}")
    frame = ratings.loc[:, list(RATING_COLUMNS)].dropna()
    frame = frame.loc[frame["rating"].to_numpy() >= 0]
    frame = frame.drop_duplicates(subset=["user_id", "anime_id"], keep="last")
    return frame.reset_index(drop=True)


def split_ratings(
    ratings: pd.DataFrame, split: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split: "random" over ratings or "user" (per-user holdout)."""
    if split == "random":
        return random_split(ratings, test_size, seed)
    if split == "user":
        return per_user_split(ratings, test_size, seed)
    raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")


class _Progress:
    """Maps each model's own progress into the run's [0, 1] by relative cost."""

    def __init__(self, names: list[str], callback: ProgressFn | None) -> None:
        self.callback = callback
        total = sum(COST.get(name, 1) for name in names)
        self.starts: dict[str, float] = {}
        done = 0.0
        for name in names:
            self.starts[name] = 0.05 + 0.85 * done / total
            done += COST.get(name, 1)
        self.shares = {name: 0.85 * COST.get(name, 1) / total for name in names}

    def __call__(self, step: str, fraction: float) -> None:
        if self.callback is not None:
            self.callback(step, float(min(max(fraction, 0.0), 1.0)))

    def model(self, name: str, fraction: float) -> None:
        """Training takes the first 80% of a model's share, evaluation the rest."""
        self(f"training {name}", self.starts[name] + self.shares[name] * 0.8 * fraction)


def train_models(
    ratings_df: pd.DataFrame,
    names: Iterable[str],
    *,
    models_dir: str | Path,
    test_size: float = 0.2,
    seed: int = 42,
    split: str = "random",
    epochs: int | None = None,
    batch_size: int | None = None,
    num_threads: int | None = None,
    k: int = 10,
    max_eval_users: int | None = 2000,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Train ``names`` (+ baseline and popularity), evaluate on the test split, save, report.

    progress(step, fraction) is called as the run advances (fraction in [0, 1]).
    """
    order = run_order(list(names))
    report = _Progress(order, progress)
    ratings = clean_ratings(ratings_df)
    report("splitting", 0.01)
    train, test = split_ratings(ratings, split, test_size, seed)
    fit_part, validation = validation_split(train, VALIDATION_FRACTION, seed)
    options = TrainOptions(seed, epochs, batch_size, num_threads)
    evaluation = EvaluationConfig(k=k, max_users=max_eval_users, seed=seed)
    fitted: dict[str, Recommender] = {}
    times: dict[str, float] = {}
    metrics: dict[str, dict[str, Any]] = {}
    for name in order:
        report.model(name, 0.0)
        ctx = TrainContext(fit_part, validation, options, fitted, partial(report.model, name))
        started = time.perf_counter()
        fitted[name] = train_one(name, ctx)
        times[name] = time.perf_counter() - started
        report(f"evaluating {name}", report.starts[name] + report.shares[name] * 0.8)
        metrics[name] = evaluate_model(fitted[name], test, evaluation)
        metrics[name]["training_time"] = times[name]
        log.info("%s: fitted in %.1f s, %s", name, times[name], _brief(metrics[name]))
    run = {
        "split": split,
        "test_size": test_size,
        "seed": seed,
        "validation_fraction": VALIDATION_FRACTION,
        "n_train": len(fit_part),
        "n_validation": len(validation),
        "n_test": len(test),
        "epochs": epochs,
        "batch_size": batch_size,
        "num_threads": num_threads,
        "k": k,
    }
    data = _summary(ratings)
    report("saving", 0.92)
    trained_at = datetime.now(UTC)
    version = save_run(
        fitted,
        models_dir,
        metrics=metrics,
        data_summary=data,
        params=run,
        training_times=times,
        version=new_version(trained_at),
        trained_at=trained_at,
    )
    result = RunResult(
        version=version,
        trained_at=trained_at,
        metrics=metrics,
        training_times=times,
        params={name: model.get_params() for name, model in fitted.items()},
        data=data,
        run=run,
    )
    report("writing the report", 0.96)
    context = {"ratings": data["n_ratings"], "users": data["n_users"], "items": data["n_items"]}
    context.update(split=f"{split} {test_size:g} seed {seed}", train=len(fit_part))
    context.update(validation=len(validation), test=len(test))
    result.report_paths = write_report(Path(models_dir) / REPORTS_DIR, version, metrics, context)
    report("done", 1.0)
    return result


def _summary(ratings: pd.DataFrame) -> dict[str, Any]:
    values = ratings["rating"].to_numpy(dtype=np.float64)
    return {
        "n_ratings": len(ratings),
        "n_users": int(ratings["user_id"].nunique()),
        "n_items": int(ratings["anime_id"].nunique()),
        "rating_min": float(values.min()) if len(values) else None,
        "rating_max": float(values.max()) if len(values) else None,
    }


def _brief(metrics: dict[str, Any]) -> str:
    keys = ("rmse", "mae", "precision_at_k", "ndcg_at_k", "coverage")
    return " ".join(f"{key}={metrics[key]:.4f}" for key in keys if key in metrics)
