"""Training on the ratings in MongoDB, on top of ml.training (the CLI's pipeline).

``train_all_models``/``train_model`` run the issue-4 pipeline (split, fit, evaluate, save,
publish the manifest); ``precompute_top_n`` then writes every training user's best-first lists
next to the version, which is what lets serving answer known users without scoring per request.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pymongo.database import Database

from app.db import model_metrics as metrics_db
from app.db import ratings as ratings_db
from app.db.common import server_time
from app.services.model_registry import TOP_N_META, TOP_N_USERS, read_manifest, top_n_dir

log = logging.getLogger(__name__)

SERVED_MODELS = ("user_based", "item_based", "ncf", "hybrid")
TOP_N_SIZE = 100
TOP_N_BATCH = 256
CLOCK_MARGIN = timedelta(minutes=5)

Progress = Callable[[str, float], None]


def load_ratings_frame(db: Database) -> pd.DataFrame:
    """Every rating in the database as user_id (ObjectId string), anime_id, rating."""
    users: list[str] = []
    items: list[int] = []
    values: list[float] = []
    for batch in ratings_db.iter_for_training(db):
        for user_id, anime_id, rating in batch:
            users.append(user_id)
            items.append(anime_id)
            values.append(rating)
    return pd.DataFrame(
        {
            "user_id": pd.Series(users, dtype=object),
            "anime_id": np.asarray(items, dtype=np.int64),
            "rating": np.asarray(values, dtype=np.float32),
        }
    )


def snapshot_time(db: Database) -> datetime:
    """When a ratings snapshot starts, on the clock that stamps ``ratings_changed_at``.

    The server's own clock when it tells it (MongoDB and nx-27017 do), else this process's,
    moved back by ``CLOCK_MARGIN`` to allow for skew between the two.
    """
    return server_time(db) or datetime.now(UTC) - CLOCK_MARGIN


def _noop(_step: str, _fraction: float) -> None:
    """Progress callback that reports nothing."""


def train_all_models(
    *,
    db: Database,
    models_dir: str | Path,
    names: Iterable[str] = SERVED_MODELS,
    test_size: float = 0.2,
    progress: Progress = _noop,
    job_id: Any = None,
    ratings: pd.DataFrame | None = None,
    ratings_as_of: datetime | None = None,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Train ``names`` on the database's ratings, publish them, record metrics, precompute top-N.

    Returns ``{version, results: {model: {rmse, mae, training_time, ...}}}``; progress(step,
    fraction) goes from 0 to 1 (reading 0-5 %, training and evaluation 5-85 %, top-N 85-100 %).
    ``ratings`` replaces the database's (a snapshot taken at ``ratings_as_of``, when known).
    """
    from ml.training.pipeline import train_models

    progress("reading ratings", 0.0)
    if ratings is None:
        ratings_as_of = snapshot_time(db)
    frame = load_ratings_frame(db) if ratings is None else ratings
    log.info("training %s on %d ratings", ", ".join(names), len(frame))
    run = train_models(
        frame,
        list(names),
        models_dir=models_dir,
        test_size=test_size,
        epochs=epochs,
        progress=lambda step, fraction: progress(step, round(0.05 + 0.8 * fraction, 4)),
    )
    documents = run.metric_documents()
    for document in documents:
        document["job_id"] = job_id
    metrics_db.insert_run(db, documents)
    precompute_top_n(
        models_dir,
        run.version,
        progress=lambda step, fraction: progress(step, round(0.85 + 0.15 * fraction, 4)),
        ratings=frame,
        ratings_as_of=ratings_as_of,
    )
    progress("done", 1.0)
    results = {name: _plain(metrics) for name, metrics in run.metrics.items()}
    return {"version": run.version, "results": results}


def train_model(name: str, **kwargs: Any) -> dict[str, Any]:
    """Train one model (plus the references the pipeline always trains); see train_all_models."""
    return train_all_models(names=[name], **kwargs)


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as JSON-friendly numbers (NaN, which JSON cannot carry, becomes None)."""
    plain: dict[str, Any] = {}
    for key, value in metrics.items():
        value = value.item() if isinstance(value, np.generic) else value
        plain[key] = None if isinstance(value, float) and math.isnan(value) else value
    return plain


def evaluate_model(name: str, test: pd.DataFrame, *, models_dir: str | Path) -> dict[str, Any]:
    """Every metric of the served model ``name`` on a test DataFrame (user_id, anime_id, rating)."""
    from ml.training.evaluate import evaluate_model as evaluate

    return _plain(evaluate(load_model(models_dir, name), test))


def save_model(model: Any, path: str | Path) -> None:
    """Save one fitted model into a directory (npz/JSON/state_dict, no pickle)."""
    model.save(path)


def load_model(models_dir: str | Path, name: str) -> Any:
    """The served version of model ``name`` (persistence.load_model on the current manifest)."""
    from ml.training.persistence import load_model as load

    return load(models_dir, name)


def top_n_of(
    model: Any,
    users: list[Any],
    k: int,
    blocked: sp.csr_matrix | None = None,
    *,
    batch_size: int = TOP_N_BATCH,
) -> tuple[np.ndarray, np.ndarray]:
    """(anime ids, scores) of each user's k best unrated items, -1/NaN padded, best first.

    ``blocked`` (rows: ``users``, columns: the model's item indices) leaves out more items than
    the ones the model was fitted on, e.g. every rating of the snapshot the model came from.
    Users are scored ``batch_size`` at a time (Recommender.top_n_indices); equal scores go to
    the lower item index.
    """
    k = min(k, len(model.items))
    items_out = np.full((len(users), k), -1, dtype=np.int64)
    scores_out = np.full((len(users), k), np.nan, dtype=np.float32)
    raw_items = np.asarray(model.items.raw, dtype=np.int64)
    user_idx = model.users.indices_of(np.asarray(users, dtype=object))
    for start in range(0, len(users), batch_size):
        rows = slice(start, start + batch_size)
        extra = None if blocked is None else blocked[rows]
        best, scores = model.top_n_indices(user_idx[rows], k, extra)
        items_out[rows] = np.where(best >= 0, raw_items[np.maximum(best, 0)], -1)
        scores_out[rows] = scores
    return items_out, scores_out


def _snapshot_matrix(model: Any, users: list[Any], ratings: pd.DataFrame) -> sp.csr_matrix:
    """users x the model's items, 1 where ``ratings`` holds a rating."""
    from ml.data import Vocabulary

    rows = Vocabulary(users).indices_of(ratings["user_id"].astype(str).to_numpy())
    cols = model.items.indices_of(ratings["anime_id"].to_numpy())
    keep = (rows >= 0) & (cols >= 0)
    return sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
        shape=(len(users), len(model.items)),
    )


def precompute_top_n(
    models_dir: str | Path,
    version: str,
    *,
    k: int = TOP_N_SIZE,
    progress: Progress = _noop,
    only_users: list[str] | None = None,
    ratings: pd.DataFrame | None = None,
    ratings_as_of: datetime | None = None,
) -> list[str]:
    """Write versions/<version>/serving/: users.npy + <model>.items/.scores.npy per served model.

    Every training user's list (``only_users``: just those, for benchmarks). ``ratings``, the
    snapshot the run read (taken at ``ratings_as_of``), is left out of the lists as well as the
    model's own training rows; ``meta.json`` then records ``ratings_as_of`` so serving can answer
    a user unchanged since then without reading their ratings. Written into a temporary directory
    renamed into place at the end, so a worker sees all of it or none of it. Returns the models
    precomputed.
    """
    from ml.training.persistence import load_model as load

    directory = Path(models_dir)
    manifest = read_manifest(directory)
    if manifest is None:
        return []
    names = [name for name in SERVED_MODELS if name in manifest.get("models", {})]
    final = top_n_dir(directory, version)
    temp = final.with_name(final.name + f".tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    users: list[Any] | None = None
    blocked, blocked_items = None, None  # the snapshot matrix, built once per item vocabulary
    for position, name in enumerate(names):
        progress(f"precomputing top-{k} for {name}", position / max(len(names), 1))
        model = load(directory, name, manifest)
        trained_on = model.users.to_list() if model.users is not None else []
        if users is None:
            known = set(trained_on)
            users = trained_on if only_users is None else [u for u in only_users if u in known]
            np.save(temp / TOP_N_USERS, np.asarray([str(user) for user in users]))
        elif only_users is None and trained_on != users:
            log.warning("%s was trained on other users; no top-N for it", name)
            continue
        same_items = blocked_items is not None and np.array_equal(blocked_items, model.items.raw)
        if ratings is not None and not same_items:
            blocked, blocked_items = _snapshot_matrix(model, users, ratings), model.items.raw
        items, scores = top_n_of(model, users, k, blocked)
        np.save(temp / f"{name}.items.npy", items)
        np.save(temp / f"{name}.scores.npy", scores)
    if ratings is not None and ratings_as_of is not None:
        # Stored dates have millisecond precision: a stamp in the same millisecond counts as later.
        as_of = ratings_as_of.astimezone(UTC)
        as_of = as_of.replace(microsecond=as_of.microsecond // 1000 * 1000)
        meta = {"ratings_as_of": as_of.isoformat()}
        (temp / TOP_N_META).write_text(json.dumps(meta))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(temp, final)
    return names
