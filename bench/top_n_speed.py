"""Top-N precompute speed: batched `top_n_of` against the former per-user loop, full scale.

Models come from a training run's directory (e.g. `python -m ml.training` on
/tmp/synthetic.csv); one process per model so each peak RSS is that model's own:

    nice .venv/bin/python -m bench.top_n_speed --models-dir /tmp/full_all/models \\
        --model item_based --users 2000 --old-users 100
    nice .venv/bin/python -m bench.top_n_speed --model ncf --all --old-users 0

Prints one JSON line: ms/user of both paths, the projection (or, with --all, the measured
time) for every user, whether the lists agree on the users both paths scored, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.services.training_service import TOP_N_SIZE, top_n_of
from ml.training.persistence import load_model, read_manifest


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_user_top_n(model: Any, users: list[Any], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The former top_n_of: score_all per user, training items masked, argpartition."""
    items_out = np.full((len(users), k), -1, dtype=np.int64)
    scores_out = np.full((len(users), k), np.nan, dtype=np.float32)
    raw_items = np.asarray(model.items.raw, dtype=np.int64)
    for row, user in enumerate(users):
        scores = model.score_all(user).astype(np.float64)
        scores[model.rated_indices(user)] = -np.inf
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.lexsort((best, -scores[best]))]
        best = best[np.isfinite(scores[best])]
        items_out[row, : len(best)] = raw_items[best]
        scores_out[row, : len(best)] = scores[best]
    return items_out, scores_out


def same_up_to_ties(
    old_items: np.ndarray, old_scores: np.ndarray, items: np.ndarray, scores: np.ndarray
) -> int:
    """Rows that agree except in which items tied at the k-th score were picked (the old
    argpartition picks any; the batched path the lowest item indices)."""
    scores = scores[: len(old_scores)]
    close = np.isclose(old_scores, scores, rtol=0, atol=1e-5, equal_nan=True).all(axis=1)
    above = old_scores > old_scores[:, -1:] + 1e-5
    same = ((old_items == items[: len(old_items)]) | ~above).all(axis=1)
    return int((close & same).sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=Path("/tmp/full_all/models"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--users", type=int, default=2000, help="users for the batched path")
    parser.add_argument("--all", action="store_true", help="every user (overrides --users)")
    parser.add_argument("--old-users", type=int, default=100, help="users for the old loop")
    parser.add_argument("--k", type=int, default=TOP_N_SIZE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    start = time.perf_counter()
    model = load_model(args.models_dir, args.model, read_manifest(args.models_dir))
    load_s = time.perf_counter() - start
    rss_loaded = peak_rss_mb()
    every_user = model.users.raw
    rng = np.random.default_rng(0)
    n_batched = len(every_user) if args.all else min(args.users, len(every_user))
    users = every_user[np.sort(rng.choice(len(every_user), n_batched, replace=False))].tolist()
    start = time.perf_counter()
    items, scores = top_n_of(model, users, args.k)
    batched_s = time.perf_counter() - start
    rss_batched = peak_rss_mb()
    result: dict[str, Any] = {
        "model": args.model,
        "n_users_total": len(every_user),
        "n_items": len(model.items),
        "load_s": round(load_s, 1),
        "batched_users": n_batched,
        "batched_s": round(batched_s, 1),
        "batched_ms_per_user": round(batched_s / n_batched * 1000, 2),
        "batched_all_users_min": round(batched_s / n_batched * len(every_user) / 60, 1),
        "peak_rss_mb_loaded": round(rss_loaded),
        "peak_rss_mb_batched": round(rss_batched),
    }
    if args.old_users > 0:
        n_old = min(args.old_users, n_batched)
        start = time.perf_counter()
        old_items, old_scores = per_user_top_n(model, users[:n_old], args.k)
        old_s = time.perf_counter() - start
        result.update(
            old_users=n_old,
            old_ms_per_user=round(old_s / n_old * 1000, 2),
            old_all_users_min=round(old_s / n_old * len(every_user) / 60, 1),
            same_lists=int((old_items == items[:n_old]).all(axis=1).sum()),
            same_up_to_ties=int(same_up_to_ties(old_items, old_scores, items, scores)),
            max_score_diff=float(np.nanmax(np.abs(old_scores - scores[:n_old]))),
        )
    print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
