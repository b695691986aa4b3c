"""Build the semantic search index (FAISS + BM25 sidecars) from the anime catalogue.

    python -m scripts.build_faiss_index                       # from MongoDB (MONGODB_URI)
    python -m scripts.build_faiss_index --if-missing          # what `make run` does
    python -m scripts.build_faiss_index --anime-csv data/sample/anime.csv \\
        --synopses ../shared/data/anime-2020-synopses/anime_with_synopsis.csv   # no database
    python -m scripts.build_faiss_index --update              # re-encode new/changed anime only

``python scripts/build_faiss_index.py ...`` works the same. Settings come from the environment
through app.config (FAISS_INDEX_PATH, EMBEDDING_MODEL, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

if not __package__:  # run as `python scripts/NAME.py`: the project root holds app/, ml/, scripts/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from ml.exceptions import IndexNotBuiltError
from ml.services.anime_text import clean_synopsis
from ml.services.faiss_service import FAISSService, SearchSettings

log = logging.getLogger("build_faiss_index")

CATALOGUE_COLUMNS = ["anime_id", "name", "genre", "type", "members", "description"]


def read_catalogue_csv(
    anime_csv: str | Path, synopses_csv: str | Path | None = None
) -> pd.DataFrame:
    """anime.csv joined with anime_with_synopsis.csv (MAL_ID = anime_id) as ``description``."""
    frame = pd.read_csv(anime_csv)
    frame["description"] = None
    if synopses_csv:
        synopses = pd.read_csv(synopses_csv)
        column = "sypnopsis" if "sypnopsis" in synopses.columns else "synopsis"
        by_id = dict(zip(synopses["MAL_ID"].astype(int), synopses[column], strict=True))
        frame["description"] = frame["anime_id"].astype(int).map(by_id)
    return frame[CATALOGUE_COLUMNS]


def read_catalogue_db() -> pd.DataFrame:
    """The anime collection (MONGODB_URI from the environment, via app.config)."""
    from app.config import load_config
    from app.db import anime as anime_db
    from app.db.client import connect

    config = load_config()
    db = connect(config.MONGODB_URI, config.MONGODB_DB, config.EMBEDDED_DB_PATH)
    return pd.DataFrame(list(anime_db.iter_for_index(db)), columns=CATALOGUE_COLUMNS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the FAISS semantic search index.")
    parser.add_argument("--anime-csv", help="read anime.csv instead of the database")
    parser.add_argument("--synopses", help="anime_with_synopsis.csv to join (with --anime-csv)")
    parser.add_argument("--output", help="index path (default FAISS_INDEX_PATH)")
    parser.add_argument("--model", help="embedding model (default EMBEDDING_MODEL)")
    parser.add_argument("--if-missing", action="store_true", help="do nothing if the index exists")
    parser.add_argument("--update", action="store_true", help="re-encode only new/changed anime")
    parser.add_argument("--index-type", default="auto", choices=["auto", "flat", "hnsw", "ivf"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    from app.config import load_config

    config = load_config()
    output = Path(args.output or config.FAISS_INDEX_PATH)
    service = FAISSService(
        output,
        args.model or config.EMBEDDING_MODEL,
        settings=SearchSettings(index_type=args.index_type),
    )
    if args.if_missing and service.meta_path(output).exists():
        log.info("search index already at %s; nothing to do", output)
        return 0
    started = time.perf_counter()
    catalogue = (
        read_catalogue_csv(args.anime_csv, args.synopses) if args.anime_csv else read_catalogue_db()
    )
    if catalogue.empty:
        log.error("the anime catalogue is empty: import data first (python -m scripts.import_data)")
        return 1
    if args.update:
        try:
            service.load()
        except IndexNotBuiltError:
            log.error("no index at %s to update; build it first", output)
            return 1
        records = service.changed(catalogue.to_dict("records"))
        count = service.update(records)
        action = "updated"
    else:
        count = service.build_index(catalogue, show_progress_bar=True)
        action = "indexed"
    service.save()
    with_synopsis = sum(1 for text in catalogue["description"] if clean_synopsis(text))
    log.info(
        "%s %d anime (%d in catalogue, %d with a synopsis) as %d vectors in %.1f s -> %s",
        action,
        count,
        len(catalogue),
        with_synopsis,
        service.index.ntotal,
        time.perf_counter() - started,
        output,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
