"""Rating sets the model tests share (the hand-checkable one is the ``tiny_ratings`` fixture)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TASTE_GROUP_USER = "64b7f0c2a1e4d3f5a6b7c{:03d}"


def two_taste_groups(seed: int = 3) -> pd.DataFrame:
    """12 users (ObjectId-like strings) x 10 anime (ints), ~60% rated, two taste groups, 1-10.

    Even users like even anime, odd users odd ones. The last two rows repeat a pair: the last
    rating wins.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(12):
        group = u % 2
        for i in range(10):
            if rng.random() < 0.6 or i == u % 10:
                base = 8.5 if (i % 2) == group else 4.5
                rating = int(np.clip(round(base + rng.normal(0, 1.2)), 1, 10))
                rows.append((TASTE_GROUP_USER.format(u), 100 + i, rating))
    rows.append((TASTE_GROUP_USER.format(0), 100, 10))
    rows.append((TASTE_GROUP_USER.format(1), 101, 1))
    return pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])


def watched_and_rated(n_users: int = 30, n_items: int = 15, seed: int = 0) -> pd.DataFrame:
    """30 users x 15 anime in two taste groups on 1-10, ~70% rated, plus -1 (watched, not rated)
    rows: the shape of the Kaggle rating.csv, for the training pipeline."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        for i in range(n_items):
            if rng.random() < 0.7:
                base = 8.5 if (i + u) % 2 else 4.0
                rows.append((u + 1, 100 + i, int(np.clip(round(base + rng.normal(0, 1)), 1, 10))))
            elif rng.random() < 0.3:
                rows.append((u + 1, 100 + i, -1))
    return pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])


#: The anime of each taste group in ``planted_tastes`` (ids 200-211, 300-311, 400-411).
GROUP_ITEMS = [[100 * (group + 2) + i for i in range(12)] for group in range(3)]
#: Anime most users watched and found mediocre: what a most-rated chart recommends first.
MEDIOCRE_HITS = [900, 901, 902, 903]


def planted_tastes(n_users: int = 60, seed: int = 5) -> pd.DataFrame:
    """Users in three taste groups on 1-10: each watches about 60% of its group's 12 anime and
    rates them 8-10, rarely another group's (rated 3-5), often one of four mediocre hits (rated
    4-6), and leaves one group anime watched but unrated (-1). Popularity ranks the hits and
    the other groups' anime high; the group's own anime are the relevant ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        group = u % 3
        user = f"u{u:03d}"
        for anime in GROUP_ITEMS[group]:
            if rng.random() < 0.6:
                rows.append((user, anime, int(rng.integers(8, 11))))
        for other in range(3):
            if other != group:
                for anime in GROUP_ITEMS[other]:
                    if rng.random() < 0.08:
                        rows.append((user, anime, int(rng.integers(3, 6))))
        for anime in MEDIOCRE_HITS:
            if rng.random() < 0.5:
                rows.append((user, anime, int(rng.integers(4, 7))))
        unrated = [a for a in GROUP_ITEMS[group] if (user, a) not in {(r[0], r[1]) for r in rows}]
        if unrated:
            rows.append((user, unrated[int(rng.integers(len(unrated)))], -1))
    return pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])
