"""Training's MongoDB adapter: read what a run learns from, record run metrics.

The one ml module that queries MongoDB (ml.models, ml.services and ml.training.evaluate never
import pymongo); the training CLI and the admin training job both read through
``load_training_data``.
``MONGODB_URI`` unset or "embedded" means the app's embedded nx-27017 server, found through
the port file ``<EMBEDDED_DB_PATH>.port`` that app/db/embedded.py writes ({"port": N, "pid": P});
this module does not start it (that belongs to the app).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from ml.data import INTERACTION_STATUSES, WATCHED, TrainingData

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
#: The watch_history action of a watched-but-not-rated entry (the dataset's rating -1 rows).
WATCHED_ACTION = "watched"
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


def server_time(db: Database) -> datetime | None:
    """The server's clock (the one ``$currentDate`` stamps users with), or None if unknown."""
    try:
        local_time = db.client.admin.command("hello").get("localTime")
    except (PyMongoError, NotImplementedError):
        return None
    if not isinstance(local_time, datetime):
        return None
    return local_time if local_time.tzinfo is not None else local_time.replace(tzinfo=UTC)


def _frame(cursor: Iterable[dict[str, Any]], column: str | None = None) -> pd.DataFrame:
    """user_id (str), anime_id (int64) and ``column``'s values of the documents of a cursor."""
    users: list[str] = []
    items: list[int] = []
    values: list[Any] = []
    for document in cursor:
        users.append(str(document["user_id"]))
        items.append(int(document["anime_id"]))
        if column is not None:
            values.append(document[column])
    frame = pd.DataFrame(
        {"user_id": pd.Series(users, dtype=object), "anime_id": np.asarray(items, dtype=np.int64)}
    )
    if column is not None:
        frame[column] = values
    return frame


def load_training_data(db: Database) -> TrainingData:
    """Every rating, watched entry and list entry, read after noting the server's clock.

    Watched entries and list entries whose status is an interaction become rows rated -1;
    the other list entries (dropped, not interested) are the anime the lists leave out.
    """
    read_at = server_time(db)
    keys = {"_id": 0, "user_id": 1, "anime_id": 1}
    rated = _frame(db.ratings.find({}, keys | {"rating": 1}, batch_size=READ_BATCH), "rating")
    watched = _frame(db.watch_history.find({"action": WATCHED_ACTION}, keys, batch_size=READ_BATCH))
    listed = _frame(db.list_entries.find({}, keys | {"status": 1}, batch_size=READ_BATCH), "status")
    log.info(
        "read %d ratings, %d watched entries, %d list entries",
        len(rated),
        len(watched),
        len(listed),
    )
    interacting = listed["status"].isin(INTERACTION_STATUSES).to_numpy()
    chosen = listed.loc[interacting, ["user_id", "anime_id"]]
    ratings = pd.concat(
        [rated, watched.assign(rating=WATCHED), chosen.assign(rating=WATCHED)], ignore_index=True
    )
    ratings["rating"] = ratings["rating"].astype(np.float32)
    excluded = listed.loc[~interacting, ["user_id", "anime_id"]].reset_index(drop=True)
    return TrainingData(ratings, excluded, read_at)


def insert_model_metrics(db: Database, documents: list[dict[str, Any]]) -> int:
    """Store one model_metrics document per model of a run; return how many were stored."""
    if not documents:
        return 0
    return len(db.model_metrics.insert_many([dict(d) for d in documents]).inserted_ids)
