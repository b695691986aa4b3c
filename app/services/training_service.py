"""Training on the data in MongoDB, through the same pipeline as the training CLI.

``train_all_models``/``train_model`` read every rating, watched entry and list entry (after noting
the server's clock), then run ml.training.pipeline.train_models: split, fit, evaluate, save,
publish the manifest and write every training user's top-N lists, which leave out everything the
snapshot held, so serving can answer an unchanged user from them alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymongo.database import Database

from app.db import model_metrics as metrics_db
from ml.data import TrainingData
from ml.models import SERVED_MODELS

log = logging.getLogger(__name__)

CLOCK_MARGIN = timedelta(minutes=5)

Progress = Callable[[str, float], None]


def read_training_data(db: Database) -> TrainingData:
    """Every rating, watched entry and list entry, and when they were read.

    The time is the server's own clock when it tells it (MongoDB and nx-27017 do), else this
    process's, moved back by ``CLOCK_MARGIN`` to allow for skew between the two.
    """
    from ml.training.mongo_io import load_training_data

    data = load_training_data(db)
    if data.read_at is None:
        return TrainingData(data.ratings, data.excluded, datetime.now(UTC) - CLOCK_MARGIN)
    return data


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
    data: TrainingData | None = None,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Train ``names`` on the database's data, publish them with their lists, record metrics.

    Returns ``{version, results: {model: {rmse, mae, precision_at_k, ..., training_time}}}``;
    progress(step, fraction) goes from 0 to 1 (reading 0-5 %, the run 5-100 %). ``data``
    replaces the database's (a snapshot read earlier).
    """
    from ml.training.pipeline import train_models

    progress("reading ratings", 0.0)
    data = data or read_training_data(db)
    log.info("training %s on %d rows", ", ".join(names), len(data.ratings))
    run = train_models(
        data.ratings,
        list(names),
        models_dir=models_dir,
        test_size=test_size,
        epochs=epochs,
        ratings_as_of=data.read_at,
        excluded=data.excluded,
        progress=lambda step, fraction: progress(step, round(0.05 + 0.95 * fraction, 4)),
    )
    documents = run.metric_documents()
    for document in documents:
        document["job_id"] = job_id
    metrics_db.insert_run(db, documents)
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
    """Save one fitted model into a directory (npz/npy/JSON/state_dict, no pickle)."""
    model.save(path)


def load_model(models_dir: str | Path, name: str) -> Any:
    """The served version of model ``name`` (persistence.load_model on the current manifest)."""
    from ml.training.persistence import load_model as load

    return load(models_dir, name)
