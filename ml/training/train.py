"""Offline training CLI (the composition root for training).

    python -m ml.training.train --all
    python -m ml.training.train --model ncf --epochs 20 --batch-size 1024 --seed 42
    python -m ml.training.train --all --ratings data/sample/rating.csv --models-dir /tmp/models

Reads the ratings and watched entries from MongoDB (MONGODB_URI, MONGODB_DB; "embedded" finds
the app's embedded server through <EMBEDDED_DB_PATH>.port) or from a CSV with --ratings (rows
rated -1 are watched entries). Runs ml.training.pipeline.train_models, the same run as the admin
training job: the chosen models plus the baseline, popularity and EASE^R references on one
seeded split, each evaluated once on the test set, saved under MODELS_DIR/versions/<version>/
with every training user's top-N lists, MODELS_DIR/manifest.json published, a report written
(MODELS_DIR/reports/<version>.md/.png/.json) and, when the data came from MongoDB, one
model_metrics document per model.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pymongo.errors import PyMongoError
from tqdm import tqdm

from ml.exceptions import MLError
from ml.models import TRAINING_ORDER
from ml.training import mongo_io
from ml.training.pipeline import SPLITS, RunResult, train_models
from ml.training.report import markdown_table
from ml.training.sources import (
    CliSettings,
    TrainingData,
    cli_settings,
    read_ratings_database,
    read_ratings_file,
)

log = logging.getLogger("ml.training.train")


def _fraction(value: str) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1 (exclusive)")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml.training.train", description=(__doc__ or "").splitlines()[0]
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="train every model")
    which.add_argument("--model", choices=TRAINING_ORDER, help="train one model (+ references)")
    parser.add_argument("--epochs", type=_positive, help="NCF maximum epochs (early stopping)")
    parser.add_argument("--batch-size", type=_positive, help="NCF mini-batch size")
    parser.add_argument("--threads", type=_positive, help="NCF torch threads (default 1)")
    parser.add_argument("--test-size", type=_fraction, default=0.2, help="test fraction (0.2)")
    parser.add_argument("--seed", type=int, default=42, help="split and training seed (42)")
    parser.add_argument(
        "--split", choices=SPLITS, default="user", help="user (per-user holdout) or random"
    )
    parser.add_argument("--k", type=_positive, default=10, help="K of the ranking metrics (10)")
    parser.add_argument(
        "--max-eval-users", type=_positive, default=2000, help="users ranked at most (2000)"
    )
    parser.add_argument("--ratings", type=Path, help="CSV (user_id,anime_id,rating) or u.data")
    parser.add_argument("--models-dir", type=Path, help="overrides MODELS_DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _record_metrics(settings: CliSettings, result: RunResult) -> None:
    uri = mongo_io.resolve_uri(settings.mongodb_uri, settings.embedded_db_path)
    with mongo_io.connect(uri, settings.mongodb_db) as db:
        stored = mongo_io.insert_model_metrics(db, result.metric_documents())
    log.info("stored %d model_metrics documents", stored)


def run(args: argparse.Namespace, settings: CliSettings) -> RunResult:
    """Load the ratings, train, evaluate, save; record metrics when reading MongoDB."""
    data: TrainingData = (
        read_ratings_file(args.ratings) if args.ratings else read_ratings_database(settings)
    )
    names = list(TRAINING_ORDER) if args.all else [args.model]
    with tqdm(total=100, disable=args.quiet, unit="%", desc="training") as bar:

        def progress(step: str, fraction: float) -> None:
            bar.set_description(step)
            bar.update(max(round(fraction * 100) - bar.n, 0))

        result = train_models(
            data.ratings,
            names,
            models_dir=args.models_dir or settings.models_dir,
            test_size=args.test_size,
            seed=args.seed,
            split=args.split,
            epochs=args.epochs,
            batch_size=args.batch_size,
            num_threads=args.threads,
            k=args.k,
            max_eval_users=args.max_eval_users,
            progress=progress,
            ratings_as_of=data.read_at,
            excluded=data.excluded,
        )
    if not args.ratings:
        _record_metrics(settings, result)
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    settings = cli_settings()
    try:
        result = run(args, settings)
    except MLError as error:
        log.error("%s", error)
        return 2
    except (mongo_io.DatabaseUnavailable, PyMongoError) as error:
        log.error("%s", error)
        return 1
    print(markdown_table(result.metrics))  # noqa: T201
    print(f"version {result.version}; report: {result.report_paths.get('markdown')}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
