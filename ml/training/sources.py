"""Where the training CLIs get ratings and settings: a CSV file or MongoDB, env defaults.

Only the CLI entry points (ml.training.train, ml.training.re_evaluate_ncf) use this module, and
``cli_settings`` is the one place under ml/ that reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.data import RATING_COLUMNS, WATCHED, TrainingData
from ml.exceptions import DataError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MOVIELENS_COLUMNS = ("user_id", "anime_id", "rating", "timestamp")


@dataclass(frozen=True)
class CliSettings:
    mongodb_uri: str
    mongodb_db: str
    models_dir: Path
    embedded_db_path: Path


def _project_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def cli_settings() -> CliSettings:
    """MONGODB_URI, MONGODB_DB, MODELS_DIR, EMBEDDED_DB_PATH with the app's defaults."""
    return CliSettings(
        mongodb_uri=os.environ.get("MONGODB_URI", "") or "embedded",
        mongodb_db=os.environ.get("MONGODB_DB", "anime_recommender"),
        models_dir=_project_path(os.environ.get("MODELS_DIR", "ml/saved_models")),
        embedded_db_path=_project_path(os.environ.get("EMBEDDED_DB_PATH", "instance/anime.db")),
    )


def read_ratings_file(path: str | Path) -> TrainingData:
    """Ratings from a CSV with user_id,anime_id,rating columns, or MovieLens u.data (tabs).

    Rows rated -1 (the anime dataset's watched, not rated) are kept as watched entries.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"ratings file not found: {file}")
    with file.open() as handle:
        first = handle.readline()
    if "\t" in first:
        frame = pd.read_csv(file, sep="\t", header=None, names=list(MOVIELENS_COLUMNS))
    else:
        frame = pd.read_csv(file)
    missing = [column for column in RATING_COLUMNS if column not in frame.columns]
    if missing:
        raise DataError(f"{file} lacks the columns {', '.join(missing)}")
    frame = frame.loc[:, list(RATING_COLUMNS)].dropna()
    rating = frame["rating"].to_numpy()
    frame = frame.loc[(rating >= 0) | (rating == WATCHED)].reset_index(drop=True)
    return TrainingData(frame)


def read_ratings_database(settings: CliSettings) -> TrainingData:
    """Everything a run learns from in MongoDB (mongo_io.DatabaseUnavailable when absent)."""
    from ml.training import mongo_io  # pymongo only when the database is actually used

    uri = mongo_io.resolve_uri(settings.mongodb_uri, settings.embedded_db_path)
    with mongo_io.connect(uri, settings.mongodb_db) as db:
        return mongo_io.load_training_data(db)
