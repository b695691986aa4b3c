"""Synthetic ratings shaped like the full Kaggle anime dataset (for scale benchmarks).

6,337,241 explicit ratings from 69,600 users on 9,927 anime: long-tailed item popularity
(Zipf-like, the most popular item has ~35k ratings) and user activity (log-normal), ratings
1-10 skewed to 7-9 (mean ~7.8) from a low-rank model plus biases and noise.

    python -m bench.synthetic --out /tmp/synthetic.csv            # write a CSV
    python -m bench.synthetic --users 2000 --items 500 --ratings 60000 --out small.csv
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import pandas as pd

FULL_USERS = 69_600
FULL_ITEMS = 9_927
FULL_RATINGS = 6_337_241

log = logging.getLogger(__name__)


def _distinct_pairs(
    rng: np.random.Generator, user_p: np.ndarray, item_p: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n distinct (user, item) pairs drawn by activity x popularity (oversample, then dedupe)."""
    n_users, n_items = len(user_p), len(item_p)
    first = rng.choice(n_items, size=n_users, p=item_p)  # every user rates at least one item
    keys = np.arange(n_users, dtype=np.int64) * n_items + first
    while len(keys) < n:
        draw = int((n - len(keys)) * 1.3) + 1000
        users = rng.choice(n_users, size=draw, p=user_p)
        items = rng.choice(n_items, size=draw, p=item_p)
        keys = np.unique(np.concatenate([keys, users.astype(np.int64) * n_items + items]))
    rest = rng.permutation(np.setdiff1d(keys, np.arange(n_users) * n_items + first))
    keys = np.concatenate([np.arange(n_users, dtype=np.int64) * n_items + first, rest])[:n]
    keys = rng.permutation(keys)
    return (keys // n_items).astype(np.int32), (keys % n_items).astype(np.int32)


def generate(
    n_users: int = FULL_USERS,
    n_items: int = FULL_ITEMS,
    n_ratings: int = FULL_RATINGS,
    *,
    seed: int = 42,
    rank: int = 8,
) -> pd.DataFrame:
    """Ratings DataFrame (user_id, anime_id, rating) with the full dataset's shape."""
    if n_ratings > 0.5 * n_users * n_items:
        raise ValueError("too many ratings for the requested users x items")
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.52
    item_p = rng.permutation(popularity / popularity.sum())
    activity = rng.lognormal(mean=0.0, sigma=1.1, size=n_users)
    user_p = activity / activity.sum()
    users, items = _distinct_pairs(rng, user_p, item_p, n_ratings)

    user_bias = rng.normal(0.0, 0.6, n_users)
    item_bias = rng.normal(0.0, 0.7, n_items) + 0.8 * np.log(item_p / item_p.mean()) / 4
    p = rng.normal(0.0, 0.45, (n_users, rank)).astype(np.float32)
    q = rng.normal(0.0, 0.45, (n_items, rank)).astype(np.float32)
    affinity = np.einsum("ij,ij->i", p[users], q[items])
    noise = rng.normal(0.0, 1.0, n_ratings)
    raw = 7.8 + user_bias[users] + item_bias[items] + affinity + noise
    rating = np.clip(np.rint(raw), 1, 10).astype(np.int8)
    return pd.DataFrame(
        {
            "user_id": users.astype(np.int64) + 1,
            "anime_id": items.astype(np.int64) + 1,
            "rating": rating,
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=FULL_USERS)
    parser.add_argument("--items", type=int, default=FULL_ITEMS)
    parser.add_argument("--ratings", type=int, default=FULL_RATINGS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    df = generate(args.users, args.items, args.ratings, seed=args.seed)
    df.to_csv(args.out, index=False)
    counts = df["anime_id"].value_counts()
    log.info(
        "%d ratings, %d users, %d items; top item %d ratings; mean %.2f; share 7-9 %.2f",
        len(df),
        df["user_id"].nunique(),
        df["anime_id"].nunique(),
        counts.iloc[0],
        df["rating"].mean(),
        df["rating"].between(7, 9).mean(),
    )


if __name__ == "__main__":
    main()
