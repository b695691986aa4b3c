"""Import the anime dataset into MongoDB.

    python -m scripts.import_data                 # Kaggle download, bundled sample when offline
    python -m scripts.import_data --sample        # the bundled sample (data/sample/)
    python -m scripts.import_data --source DIR    # anime.csv + rating.csv from a folder
    ... --synopses FILE           # anime.description from anime_with_synopsis.csv

``python scripts/import_data.py ...`` works the same. Re-running changes nothing; a run that died
half-way can be re-run.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

if not __package__:  # run as `python scripts/NAME.py`: the project root holds app/, ml/, scripts/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm

from app.config import PROJECT_ROOT, load_config
from app.db.client import connect
from app.db.indexes import ensure_indexes
from app.services.import_service import (
    import_dataset,
    read_anime_csv,
    read_ratings_csv,
    read_synopses_csv,
)
from scripts import build_faiss_index

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
KAGGLE_DATASET = "CooperUnion/anime-recommendations-database"
KAGGLE_SYNOPSES = "hernan4444/anime-recommendation-database-2020"
SYNOPSES_FILE = "anime_with_synopsis.csv"

log = logging.getLogger("import_data")


def _kaggle_download(dataset: str) -> Path:
    import kagglehub

    return Path(kagglehub.dataset_download(dataset))


def resolve_source(args: argparse.Namespace) -> tuple[Path, str]:
    """The folder holding anime.csv and rating.csv, and a word on where it came from."""
    if args.sample:
        return SAMPLE_DIR, "bundled sample"
    if args.source:
        return Path(args.source), f"folder {args.source}"
    try:
        return _kaggle_download(KAGGLE_DATASET), f"Kaggle {KAGGLE_DATASET}"
    except Exception as error:  # noqa: BLE001 - any download failure means: use the sample
        print(  # noqa: T201
            f"Kaggle download failed ({error.__class__.__name__}); importing the bundled sample"
        )
        return SAMPLE_DIR, "bundled sample (offline fallback)"


def resolve_synopses(args: argparse.Namespace, from_kaggle: bool) -> Path | None:
    """The synopses file: --synopses, else the Kaggle 2020 dataset when importing from Kaggle."""
    if args.synopses:
        return Path(args.synopses)
    if not from_kaggle:
        return None
    try:
        return _kaggle_download(KAGGLE_SYNOPSES) / SYNOPSES_FILE
    except Exception as error:  # noqa: BLE001 - synopses are optional
        print(f"Synopses download failed ({error.__class__.__name__}); skipping them")  # noqa: T201
        return None


def _tqdm_progress(items: Iterable[Any], label: str, total: int) -> Iterable[Any]:
    return tqdm(items, desc=f"writing {label}", total=total, unit="batch")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Import the anime dataset into MongoDB.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sample", action="store_true", help="import the bundled sample")
    where.add_argument("--source", metavar="DIR", help="folder with anime.csv and rating.csv")
    parser.add_argument("--synopses", metavar="FILE", help="anime_with_synopsis.csv to join")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = load_config()
    folder, origin = resolve_source(args)
    synopses_path = resolve_synopses(args, origin.startswith("Kaggle"))
    for required in (folder / "anime.csv", folder / "rating.csv"):
        if not required.is_file():
            sys.exit(f"error: {required} not found")
    started = time.perf_counter()
    db = connect(config.MONGODB_URI, config.MONGODB_DB, config.EMBEDDED_DB_PATH)
    ensure_indexes(db)
    anime = read_anime_csv(folder / "anime.csv")
    ratings = read_ratings_csv(folder / "rating.csv")
    synopses = read_synopses_csv(synopses_path) if synopses_path else {}
    summary = import_dataset(db, anime, ratings, synopses=synopses, progress=_tqdm_progress)
    elapsed = time.perf_counter() - started
    print(f"Imported from {origin} into {config.MONGODB_DB} in {elapsed:.1f} s")  # noqa: T201
    for name, value in summary.as_dict().items():
        print(f"  {name.replace('_', ' '):<22}{value:>10,}")  # noqa: T201
    if Path(config.FAISS_INDEX_PATH).exists():
        print("Updating the semantic search index for new or changed anime")  # noqa: T201
        return build_faiss_index.main(["--update"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
