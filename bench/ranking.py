"""Per-user holdout ranking table: every model beside popularity and EASE^R.

    nice .venv/bin/python -m bench.ranking                    # anime sample + MovieLens 100K
    nice .venv/bin/python -m bench.ranking --dataset anime --json bench/results/ranking.json

The protocol is the training pipeline's own (ml.training.pipeline): users with >= 10 ratings
lose floor(20%) of them at random (seed 42); the anime sample's watched-not-rated rows (-1) stay
on the training side as interactions; every choice (lambda, k, epochs, weights, temperatures)
is made on a per-user validation carve-out of the training rows, then each model is refitted on
all of them. Relevant = a held-out rating >= 8 (anime) / >= 4 (MovieLens); every item the user
did not rate or watch in training is a candidate; binary NDCG. MovieLens 100K is read from
../shared/data/ml-100k/u.data and skipped when absent.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from ml.models import TRAINING_ORDER
from ml.training.evaluate import EvaluationConfig, evaluate_model
from ml.training.individual_trainers import TrainOptions
from ml.training.pipeline import clean_ratings, fit_models, split_ratings
from ml.training.sources import read_ratings_file

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {
    "anime": ROOT / "data" / "sample" / "rating.csv",
    "ml-100k": ROOT.parent / "shared" / "data" / "ml-100k" / "u.data",
}
log = logging.getLogger("bench.ranking")


def run(name: str, seed: int = 42) -> dict[str, dict[str, Any]] | None:
    """Metrics of every model on one dataset (None when its file is absent)."""
    path = DATASETS[name]
    if not path.exists():
        log.warning("%s not found: skipping %s", path, name)
        return None
    ratings = clean_ratings(read_ratings_file(path).ratings)
    train, test = split_ratings(ratings, "user", 0.2, seed)
    started = time.perf_counter()
    fitted, times = fit_models(train, list(TRAINING_ORDER), TrainOptions(seed=seed), refit_all=True)
    log.info("%s: every model fitted in %.0f s", name, time.perf_counter() - started)
    config = EvaluationConfig(k=10, max_users=None, seed=seed)
    results = {}
    for model_name, model in fitted.items():
        metrics = evaluate_model(model, test, config)
        metrics["fit_s"] = times[model_name]
        metrics["params"] = model.get_params()
        results[model_name] = metrics
    return results


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """NDCG@10 (P@10) per model and dataset, the evaluated users in the header."""
    names = list(results)
    users = [next(iter(results[n].values()))["n_ranked_users"] for n in names]
    columns = [f"{name} ({count} users)" for name, count in zip(names, users, strict=True)]
    header = "| NDCG@10 (P@10) | " + " | ".join(columns) + " |"
    lines = [header, "|---|" + "---:|" * len(names)]
    for model in TRAINING_ORDER:
        cells = []
        for name in names:
            m = results[name].get(model)
            cells.append("-" if m is None else f"{m['ndcg_at_k']:.3f} ({m['precision_at_k']:.3f})")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bench.ranking", description=__doc__)
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write every metric here")
    args = parser.parse_args(argv)
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    results = {}
    for name in names:
        found = run(name, args.seed)
        if found is not None:
            results[name] = found
    print(table(results))  # noqa: T201
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
