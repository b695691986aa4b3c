"""Synthetic ratings shaped like the full Kaggle anime dataset (for scale benchmarks).

6,337,241 explicit ratings from 69,600 users on 9,927 anime: long-tailed item popularity
(Zipf-like, the most popular item has ~35k ratings) and user activity (log-normal), ratings
1-10 skewed to 7-9 (mean ~7.8) from a low-rank model plus biases and noise; plus 1,476,496
watched-but-not-rated rows (rating -1, drawn the same way), as in the dataset's 7,813,737 rows.

    python -m bench.synthetic --out /tmp/synthetic.csv            # write a CSV
    python -m bench.synthetic --users 2000 --items 500 --ratings 60000 --watched 0 --out small.csv
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import pandas as pd

FULL_USERS = 69_600
FULL_ITEMS = 9_927
FULL_RATINGS = 6_337_241
FULL_WATCHED = 1_476_496

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
    n_watched: int = 0,
    seed: int = 42,
    rank: int = 8,
) -> pd.DataFrame:
    """Ratings DataFrame (user_id, anime_id, rating) with the full dataset's shape; the last
    ``n_watched`` rows are watched-not-rated pairs (rating -1)."""
    if n_ratings + n_watched > 0.5 * n_users * n_items:
        raise ValueError("too many ratings for the requested users x items")
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.52
    item_p = rng.permutation(popularity / popularity.sum())
    activity = rng.lognormal(mean=0.0, sigma=1.1, size=n_users)
    user_p = activity / activity.sum()
    all_users, all_items = _distinct_pairs(rng, user_p, item_p, n_ratings + n_watched)
    users, items = all_users[:n_ratings], all_items[:n_ratings]

    user_bias = rng.normal(0.0, 0.6, n_users)
    item_bias = rng.normal(0.0, 0.7, n_items) + 0.8 * np.log(item_p / item_p.mean()) / 4
    p = rng.normal(0.0, 0.45, (n_users, rank)).astype(np.float32)
    q = rng.normal(0.0, 0.45, (n_items, rank)).astype(np.float32)
    affinity = np.einsum("ij,ij->i", p[users], q[items])
    noise = rng.normal(0.0, 1.0, n_ratings)
    raw = 7.8 + user_bias[users] + item_bias[items] + affinity + noise
    rating = np.clip(np.rint(raw), 1, 10).astype(np.int8)
    rating = np.concatenate([rating, np.full(n_watched, -1, dtype=np.int8)])
    return pd.DataFrame(
        {
            "user_id": all_users.astype(np.int64) + 1,
            "anime_id": all_items.astype(np.int64) + 1,
            "rating": rating,
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=FULL_USERS)
    parser.add_argument("--items", type=int, default=FULL_ITEMS)
    parser.add_argument("--ratings", type=int, default=FULL_RATINGS)
    parser.add_argument("--watched", type=int, default=FULL_WATCHED, help="rows rated -1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    df = generate(args.users, args.items, args.ratings, n_watched=args.watched, seed=args.seed)
    df.to_csv(args.out, index=False)
    rated = df[df["rating"] > 0]
    counts = rated["anime_id"].value_counts()
    log.info(
        "%d ratings, %d watched, %d users, %d items; top item %d ratings; mean %.2f; 7-9 %.2f",
        len(rated),
        len(df) - len(rated),
        df["user_id"].nunique(),
        df["anime_id"].nunique(),
        counts.iloc[0],
        rated["rating"].mean(),
        rated["rating"].between(7, 9).mean(),
    )


if __name__ == "__main__":
    main()
