"""Fit one model on full-scale synthetic ratings; print fit time, predict/recommend time, peak RSS.

Run one process per model so each peak RSS is that model's own:

    nice .venv/bin/python -m bench.fit_scale --model item_based
    nice .venv/bin/python -m bench.fit_scale --model user_based --cache /tmp/synthetic.npz
    nice .venv/bin/python -m bench.fit_scale --model ncf --ncf-epochs 2

The synthetic data (bench/synthetic.py) is cached as .npz (ints only, no pickle).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.synthetic import generate
from ml.models import MODEL_CLASSES, HybridWeightedCF, ItemBasedCF, Recommender, UserBasedCF

log = logging.getLogger("bench.fit_scale")


def load_ratings(cache: Path) -> pd.DataFrame:
    """The full-scale synthetic ratings, generated once and cached."""
    if cache.exists():
        with np.load(cache, allow_pickle=False) as arrays:
            return pd.DataFrame(
                {"user_id": arrays["u"], "anime_id": arrays["i"], "rating": arrays["r"]}
            )
    df = generate()
    np.savez(
        cache, u=df["user_id"].to_numpy(), i=df["anime_id"].to_numpy(), r=df["rating"].to_numpy()
    )
    return df


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(name: str, ncf_epochs: int) -> Recommender:
    if name == "ncf":
        return MODEL_CLASSES["ncf"](epochs=ncf_epochs)  # type: ignore[call-arg]
    if name == "hybrid":  # UB + IB fitted on 90%, weights on 10%, no refit, no NCF
        return HybridWeightedCF(
            user_based_model=UserBasedCF(), item_based_model=ItemBasedCF(), refit=False
        )
    return MODEL_CLASSES[name]()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(MODEL_CLASSES))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/synthetic_full.npz"))
    parser.add_argument("--ncf-epochs", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ratings = load_ratings(args.cache)
    rss_data = peak_rss_mb()
    model = build(args.model, args.ncf_epochs)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(ratings)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    rss_fit = peak_rss_mb()
    rng = np.random.default_rng(0)
    sample = ratings.iloc[rng.choice(len(ratings), 100_000, replace=False)]
    start = time.perf_counter()
    model.predict_many(sample["user_id"].to_numpy(), sample["anime_id"].to_numpy())
    predict_s = time.perf_counter() - start
    users = ratings["user_id"].unique()[:50]
    start = time.perf_counter()
    for user in users:
        model.recommend(user, n=10)
    recommend_ms = (time.perf_counter() - start) / len(users) * 1000
    result = {
        "model": args.model,
        "n_ratings": len(ratings),
        "fit_s": round(fit_s, 1),
        "fit_cpu_s": round(fit_cpu_s, 1),
        "predict_100k_s": round(predict_s, 2),
        "recommend_ms": round(recommend_ms, 1),
        "peak_rss_mb_after_data": round(rss_data),
        "peak_rss_mb": round(max(rss_fit, peak_rss_mb())),
    }
    print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
