"""What `make run` does before serving: data, models and search index, each only when missing.

    python -m scripts.bootstrap

1. starts the database (the embedded server unless MONGODB_URI is set) and creates the indexes;
2. imports the bundled sample when the anime collection is empty (SYNOPSES=FILE adds synopses);
3. trains every model when MODELS_DIR has no manifest (or models saved in an older format);
4. builds the FAISS index when FAISS_INDEX_PATH does not exist.
"""

from __future__ import annotations

import os
import time

from app.config import load_config
from app.db.anime import count_anime
from app.db.client import connect
from app.db.indexes import ensure_indexes
from ml.training import train
from ml.training.persistence import read_manifest, saved_in_current_format
from scripts import build_faiss_index, import_data


def _say(message: str) -> None:
    print(f"[bootstrap] {message}", flush=True)  # noqa: T201


def ensure_data(db_count: int) -> None:
    if db_count:
        _say(f"database has {db_count:,} anime: skipping the import")
        return
    _say("database is empty: importing the bundled sample")
    argv = ["--sample"]
    synopses = os.environ.get("SYNOPSES")
    if synopses:
        argv += ["--synopses", synopses]
    import_data.main(argv)


def ensure_models(models_dir: str) -> None:
    if saved_in_current_format(models_dir):
        _say(f"models found in {models_dir}: skipping training")
        return
    if read_manifest(models_dir) is not None:
        _say("the saved models are of an older format: training all of them again")
    else:
        _say("no trained models: training all of them on the database's data")
    train.main(["--all"])


def ensure_search_index() -> None:
    _say("search index: building it from the anime collection unless it exists")
    build_faiss_index.main(["--if-missing"])


def main() -> int:
    started = time.perf_counter()
    config = load_config()
    db = connect(config.MONGODB_URI, config.MONGODB_DB, config.EMBEDDED_DB_PATH)
    ensure_indexes(db)
    ensure_data(count_anime(db))
    ensure_models(config.MODELS_DIR)
    ensure_search_index()
    _say(f"ready in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
