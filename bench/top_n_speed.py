"""Top-N list speed: ``rank_everyone`` (what every training run writes) for one model, full scale.

Models come from a training run's directory (e.g. ``python -m ml.training.train --all --ratings
/tmp/synthetic.csv --models-dir /tmp/fs/models``); one process per model so each peak RSS is
that model's own:

    nice .venv/bin/python -m bench.top_n_speed --models-dir /tmp/fs/models --model item_based
    /usr/bin/time -v nice .venv/bin/python -m bench.top_n_speed --model ncf --all

Prints one JSON line: load time, ms per user, the projection (or, with --all, the measured time)
for every user, and peak RSS.
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

from ml.training.persistence import load_model, read_manifest
from ml.training.top_n import TOP_N_SIZE, rank_everyone


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=Path("/tmp/fs/models"))
    parser.add_argument("--model", required=True)
    parser.add_argument("--users", type=int, default=2000, help="users ranked (a seeded sample)")
    parser.add_argument("--all", action="store_true", help="every user (overrides --users)")
    parser.add_argument("--k", type=int, default=TOP_N_SIZE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    start = time.perf_counter()
    model = load_model(args.models_dir, args.model, read_manifest(args.models_dir))
    load_s = time.perf_counter() - start
    rss_loaded = peak_rss_mb()
    every_user = np.asarray(model.users.raw, dtype=object)
    rng = np.random.default_rng(0)
    n_users = len(every_user) if args.all else min(args.users, len(every_user))
    users = every_user[np.sort(rng.choice(len(every_user), n_users, replace=False))].tolist()
    start = time.perf_counter()
    lists = rank_everyone(model, users, args.k)
    ranked_s = time.perf_counter() - start
    result: dict[str, Any] = {
        "model": args.model,
        "n_users_total": len(every_user),
        "n_items": len(model.items),
        "load_s": round(load_s, 1),
        "users": n_users,
        "ranked_s": round(ranked_s, 1),
        "ms_per_user": round(ranked_s / n_users * 1000, 2),
        "all_users_min": round(ranked_s / n_users * len(every_user) / 60, 1),
        "with_reasons": lists.because is not None,
        "peak_rss_mb_loaded": round(rss_loaded),
        "peak_rss_mb_ranked": round(peak_rss_mb()),
    }
    print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
