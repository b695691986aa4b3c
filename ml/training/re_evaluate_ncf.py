"""Re-evaluate the served NCF checkpoint on the current ratings without retraining.

    python -m ml.training.re_evaluate_ncf                       # ratings from MongoDB
    python -m ml.training.re_evaluate_ncf --ratings data/sample/rating.csv

Only ratings the checkpoint was not trained on count (its training pairs are stored with it):
the old test set plus every rating added since. The result (metrics, counts, how many pairs
fell back to the baseline because the user or anime is new) is printed as JSON and written to
MODELS_DIR/reports/<version>-ncf-reevaluation-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.exceptions import MLError, NotFittedError
from ml.models.base import Recommender
from ml.training.evaluate import EvaluationConfig, evaluate_model
from ml.training.persistence import load_model, read_manifest
from ml.training.pipeline import clean_ratings
from ml.training.report import REPORTS_DIR

log = logging.getLogger("ml.training.re_evaluate_ncf")


def unseen_mask(model: Recommender, ratings: pd.DataFrame) -> np.ndarray:
    """True for rows whose (user, anime) pair was not in the model's training data."""
    users = model.users
    if users is None:
        raise NotFittedError("the model is not fitted")
    u = users.indices_of(ratings["user_id"].to_numpy())
    i = model.items.indices_of(ratings["anime_id"].to_numpy())
    n_items = len(model.items)
    known = np.unique(u[u >= 0])
    seen_keys = np.concatenate(
        [user * n_items + model.seen_indices(users.raw_of(user)).astype(np.int64) for user in known]
        or [np.empty(0, dtype=np.int64)]
    )
    keys = np.where((u >= 0) & (i >= 0), u * n_items + i, -1)
    return ~np.isin(keys, seen_keys)


def re_evaluate(
    models_dir: str | Path, ratings: pd.DataFrame, config: EvaluationConfig | None = None
) -> dict[str, Any]:
    """Metrics of the manifest's NCF on the current ratings it was not trained on."""
    manifest = read_manifest(models_dir)
    if manifest is None:
        raise NotFittedError(f"no manifest in {models_dir}: train the models first")
    model = load_model(models_dir, "ncf", manifest)
    current = clean_ratings(ratings)
    current = current.loc[current["rating"].to_numpy() >= 0]  # watched rows are not ratings
    held_out = current.loc[unseen_mask(model, current)]
    if held_out.empty:
        raise MLError("every current rating was in the checkpoint's training data")
    _, answered = model.predict_many(
        held_out["user_id"].to_numpy(), held_out["anime_id"].to_numpy(), with_mask=True
    )
    entry = manifest["models"]["ncf"]
    return {
        "model_name": "ncf",
        "version": entry.get("version", manifest.get("version")),
        "evaluated_at": datetime.now(UTC).isoformat(),
        "n_ratings": len(current),
        "n_held_out": len(held_out),
        "n_fallback": int((~answered).sum()),
        "metrics": evaluate_model(model, held_out, config),
        "metrics_at_training": entry.get("metrics", {}),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit status."""
    from ml.training.sources import cli_settings, read_ratings_database, read_ratings_file

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m ml.training.re_evaluate_ncf")
    parser.add_argument("--ratings", type=Path, help="CSV (user_id,anime_id,rating) or u.data")
    parser.add_argument("--models-dir", type=Path, help="overrides MODELS_DIR")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-eval-users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    settings = cli_settings()
    models_dir = args.models_dir or settings.models_dir
    try:
        data = read_ratings_file(args.ratings) if args.ratings else read_ratings_database(settings)
        ratings = data.ratings
        config = EvaluationConfig(k=args.k, max_users=args.max_eval_users, seed=args.seed)
        result = re_evaluate(models_dir, ratings, config)
    except (MLError, RuntimeError) as error:
        log.error("%s", error)
        return 2
    reports = Path(models_dir) / REPORTS_DIR
    reports.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = reports / f"{result['version']}-ncf-reevaluation-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
