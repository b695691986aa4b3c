"""The training CLI's MongoDB adapter: read ratings in one projected pass, record run metrics.

The only ml module that imports pymongo (ml.models, ml.services and ml.training.evaluate never
do). ``MONGODB_URI`` unset or "embedded" means the app's embedded nx-27017 server, found through
the port file ``<EMBEDDED_DB_PATH>.port`` that app/db/embedded.py writes ({"port": N, "pid": P});
this module does not start it (that belongs to the app).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymongo import MongoClient
from pymongo.database import Database

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
READ_BATCH = 50_000
TIMEOUT_MS = 5000


class DatabaseUnavailable(RuntimeError):
    """No database to read from; the message tells the operator what to do."""


def resolve_uri(uri: str | None, embedded_db_path: str | Path) -> str:
    """A mongodb:// URI: ``uri`` itself, or the running embedded server's (from its port file)."""
    if uri and uri != EMBEDDED:
        return uri
    port_file = Path(f"{embedded_db_path}.port")
    try:
        info = json.loads(port_file.read_text())
        port = int(info["port"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DatabaseUnavailable(
            f"the embedded database is not running (no readable {port_file}): start the app "
            "(make run) or pass --ratings FILE to train from a CSV"
        ) from error
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@contextmanager
def connect(uri: str, db_name: str) -> Iterator[Database]:
    """A database handle on a short-lived client (closed on exit)."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=TIMEOUT_MS, tz_aware=True)
    try:
        yield client[db_name]
    finally:
        client.close()


def load_ratings(db: Database) -> pd.DataFrame:
    """Every rating as a DataFrame (user_id as str, anime_id int64, rating float32), one pass."""
    projection = {"_id": 0, "user_id": 1, "anime_id": 1, "rating": 1}
    users: list[str] = []
    items: list[int] = []
    ratings: list[float] = []
    for document in db.ratings.find({}, projection, batch_size=READ_BATCH):
        users.append(str(document["user_id"]))
        items.append(int(document["anime_id"]))
        ratings.append(float(document["rating"]))
    log.info("read %d ratings from MongoDB", len(ratings))
    return pd.DataFrame(
        {
            "user_id": pd.Series(users, dtype=object),
            "anime_id": np.asarray(items, dtype=np.int64),
            "rating": np.asarray(ratings, dtype=np.float32),
        }
    )


def insert_model_metrics(db: Database, documents: list[dict[str, Any]]) -> int:
    """Store one model_metrics document per model of a run; return how many were stored."""
    if not documents:
        return 0
    return len(db.model_metrics.insert_many([dict(d) for d in documents]).inserted_ids)
