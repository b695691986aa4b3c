"""One training run: split, fit, refit, evaluate once on the test set, save, rank, report.

``train_models`` is the single entry point of the training CLI (ml.training.train), of the first
training of ``make run`` and of the admin training jobs, so every path publishes the same
artefacts: the models, the manifest, every training user's top-N lists and the report.

Protocol: a seeded split of the explicit ratings into train and test ("user": every user with
>= 10 ratings holds out 20% of them, the ranking protocol; "random": Surprise's split); a
per-user validation part carved out of train. Every model is fitted on the rest with its choices
(hyper-parameters, epochs, blend weights) made on the validation part; on up to
REFIT_MAX_RATINGS ratings each is then refitted on all of train with those choices. The test set
is used once, after every model is final. Watched-but-not-rated rows (rating -1) are
interactions: always on the training side, never rated, never recommended.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.data import RATING_COLUMNS
from ml.exceptions import DataError
from ml.models import SERVED_MODELS
from ml.models.base import Recommender
from ml.splits import per_user_split, random_split, validation_split
from ml.training.evaluate import EvaluationConfig, evaluate_model
from ml.training.individual_trainers import (
    BESIDE,
    COST,
    DEPENDS_ON,
    ProgressFn,
    TrainContext,
    TrainOptions,
    refit,
    run_order,
    train_one,
)
from ml.training.persistence import new_version, save_run
from ml.training.report import REPORTS_DIR, write_report
from ml.training.top_n import TOP_N_SIZE, write_top_n

log = logging.getLogger(__name__)

SPLITS = ("user", "random")
VALIDATION_FRACTION = 0.2
#: Up to this many ratings, every model is refitted on all of train after its choices.
REFIT_MAX_RATINGS = 2_000_000
#: Models evaluated at once (numpy, scipy and torch release the GIL: both cores work).
EVALUATION_THREADS = 2
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
        """One model_metrics document per model (the metrics, then the run's settings)."""
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
    """user_id, anime_id, rating rows without NaN: the last rating of each pair, and the
    watched rows (rating -1) of pairs without a rating."""
    missing = [column for column in RATING_COLUMNS if column not in ratings.columns]
    if missing:
        raise DataError(f"ratings are missing columns: {', '.join(missing)}")
    frame = ratings.loc[:, list(RATING_COLUMNS)].dropna()
    explicit = frame["rating"].to_numpy() >= 0
    rated = frame.loc[explicit].drop_duplicates(subset=["user_id", "anime_id"], keep="last")
    watched = frame.loc[~explicit].drop_duplicates(subset=["user_id", "anime_id"])
    if len(watched):
        pairs = pd.MultiIndex.from_frame(watched[["user_id", "anime_id"]])
        watched = watched.loc[~pairs.isin(pd.MultiIndex.from_frame(rated[["user_id", "anime_id"]]))]
        watched = watched.assign(rating=-1.0)
    return pd.concat([rated, watched]).reset_index(drop=True)


def split_ratings(
    ratings: pd.DataFrame, split: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split: "user" (per-user holdout) or "random" over ratings."""
    if split == "random":
        return random_split(ratings, test_size, seed)
    if split == "user":
        return per_user_split(ratings, test_size, seed)
    raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")


class _Progress:
    """Maps each model's own progress into the run's [0, 1]: fitting 5-60 % by relative cost,
    refitting 60-75 %, evaluation 75-85 %, saving and the top-N lists 85-98 %."""

    def __init__(self, names: list[str], callback: ProgressFn | None) -> None:
        self.callback = callback
        self.reached = 0.0
        total = sum(COST.get(name, 1) for name in names)
        self.starts: dict[str, float] = {}
        done = 0.0
        for name in names:
            self.starts[name] = 0.05 + 0.55 * done / total
            done += COST.get(name, 1)
        self.shares = {name: 0.55 * COST.get(name, 1) / total for name in names}

    def __call__(self, step: str, fraction: float) -> None:
        """Report ``step`` at ``fraction``, never below a fraction reported before (models
        fitted side by side report their own shares)."""
        self.reached = max(self.reached, float(min(max(fraction, 0.0), 1.0)))
        if self.callback is not None:
            self.callback(step, self.reached)

    def model(self, name: str, fraction: float) -> None:
        self(f"training {name}", self.starts[name] + self.shares[name] * fraction)


def fit_models(
    train: pd.DataFrame,
    names: list[str],
    options: TrainOptions,
    *,
    refit_all: bool,
    report: _Progress | None = None,
) -> tuple[dict[str, Recommender], dict[str, float]]:
    """Every model fitted with its choices made on a validation carve-out of ``train``, then
    (``refit_all``) refitted on all of it; returns the models and their fit times."""
    report = report or _Progress(names, None)
    fit_part, validation = validation_split(train, VALIDATION_FRACTION, options.seed)
    fitted: dict[str, Recommender] = {}
    times: dict[str, float] = {}

    def fit_one(name: str) -> None:
        report.model(name, 0.0)
        ctx = TrainContext(fit_part, validation, options, fitted, partial(report.model, name))
        started = time.perf_counter()
        fitted[name] = train_one(name, ctx)
        times[name] = time.perf_counter() - started
        log.info("%s: fitted in %.1f s", name, times[name])

    run_beside(names, fit_one)
    if not refit_all:
        return fitted, times
    refitted: dict[str, Recommender] = {}

    def refit_one(name: str) -> None:
        report(f"refitting {name}", 0.6 + 0.15 * len(refitted) / len(names))
        started = time.perf_counter()
        refitted[name] = refit(name, fitted[name], train, refitted)
        times[name] += time.perf_counter() - started
        log.info("%s: refitted in %.1f s", name, time.perf_counter() - started)

    run_beside(names, refit_one)
    return refitted, times


def run_beside(names: list[str], work: Callable[[str], None]) -> None:
    """``work(name)`` for every name, in order, except that the models in BESIDE run in a
    second thread from the start (torch, and most numpy and scipy kernels, release the GIL,
    so a run keeps both cores busy); a model waits for those it is built on (``DEPENDS_ON``)."""
    beside = [name for name in names if name in BESIDE]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside") as pool:
        running = {name: pool.submit(work, name) for name in beside}
        for name in names:
            if name in running:
                continue
            for needed in DEPENDS_ON.get(name, ()):
                if needed in running:
                    running[needed].result()
            work(name)
        for future in running.values():
            future.result()


def train_models(
    ratings_df: pd.DataFrame,
    names: Iterable[str],
    *,
    models_dir: str | Path,
    test_size: float = 0.2,
    seed: int = 42,
    split: str = "user",
    epochs: int | None = None,
    batch_size: int | None = None,
    num_threads: int | None = None,
    k: int = 10,
    max_eval_users: int | None = 2000,
    progress: ProgressFn | None = None,
    ratings_as_of: datetime | None = None,
    excluded: pd.DataFrame | None = None,
    top_n: int = TOP_N_SIZE,
) -> RunResult:
    """Train ``names`` (+ the references), evaluate on the test split, save, rank, report.

    ``ratings_as_of`` is when ``ratings_df`` was read; with it, the top-N lists leave out every
    pair of ``ratings_df`` and ``excluded`` (user_id, anime_id: anime a user asked never to
    see), and serving may answer an unchanged user from them alone. progress(step, fraction) is
    called as the run advances (fraction in [0, 1]).
    """
    order = run_order(list(names))
    report = _Progress(order, progress)
    ratings = clean_ratings(ratings_df)
    report("splitting", 0.01)
    train, test = split_ratings(ratings, split, test_size, seed)
    options = TrainOptions(seed, epochs, batch_size, num_threads)
    n_ratings = int((ratings["rating"].to_numpy() >= 0).sum())
    refit_all = n_ratings <= REFIT_MAX_RATINGS
    fitted, times = fit_models(train, order, options, refit_all=refit_all, report=report)
    evaluation = EvaluationConfig(k=k, max_users=max_eval_users, seed=seed)
    evaluated: dict[str, dict[str, Any]] = {}

    def evaluate(name: str) -> None:
        report(f"evaluating {name}", 0.75 + 0.1 * len(evaluated) / len(order))
        result = evaluate_model(fitted[name], test, evaluation)
        result["training_time"] = times[name]
        log.info("%s: %s", name, _brief(result))
        evaluated[name] = result

    with ThreadPoolExecutor(max_workers=EVALUATION_THREADS, thread_name_prefix="eval") as pool:
        for future in [pool.submit(evaluate, name) for name in reversed(order)]:
            future.result()
    metrics = {name: evaluated[name] for name in order}
    run = {
        "split": split,
        "test_size": test_size,
        "seed": seed,
        "validation_fraction": VALIDATION_FRACTION,
        "refitted": refit_all,
        "n_train": int((train["rating"].to_numpy() >= 0).sum()),
        "n_watched": int((train["rating"].to_numpy() < 0).sum()),
        "n_test": len(test),
        "epochs": epochs,
        "batch_size": batch_size,
        "num_threads": num_threads,
        "k": k,
    }
    data = _summary(ratings)
    report("saving", 0.85)
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
    served = {name: fitted[name] for name in SERVED_MODELS if name in fitted}
    snapshot = ratings if excluded is None else pd.concat([ratings, excluded])
    write_top_n(
        models_dir,
        version,
        served,
        snapshot=snapshot,
        ratings_as_of=ratings_as_of,
        k=top_n,
        progress=lambda step, fraction: report(step, 0.86 + 0.12 * fraction),
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
    report("writing the report", 0.98)
    context = {"ratings": data["n_ratings"], "watched": data["n_watched"]}
    context.update(users=data["n_users"], items=data["n_items"])
    context.update(split=f"{split} {test_size:g} seed {seed}", train=run["n_train"])
    context.update(test=len(test))
    result.report_paths = write_report(Path(models_dir) / REPORTS_DIR, version, metrics, context)
    report("done", 1.0)
    return result


def _summary(ratings: pd.DataFrame) -> dict[str, Any]:
    everything = ratings["rating"].to_numpy(dtype=np.float64)
    values = everything[everything >= 0]
    return {
        "n_ratings": len(values),
        "n_watched": int((everything < 0).sum()),
        "n_users": int(ratings["user_id"].nunique()),
        "n_items": int(ratings["anime_id"].nunique()),
        "rating_min": float(values.min()) if len(values) else None,
        "rating_max": float(values.max()) if len(values) else None,
    }


def _brief(metrics: dict[str, Any]) -> str:
    keys = ("rmse", "mae", "precision_at_k", "ndcg_at_k", "coverage")
    return " ".join(f"{key}={metrics[key]:.4f}" for key in keys if key in metrics)
