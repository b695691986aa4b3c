"""Seeded train/test splits of a ratings DataFrame.

Watched-but-not-rated rows (rating -1) are interactions, not ratings: they are never held out and
always stay on the training side of a split.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ml.exceptions import DataError

#: Users with fewer explicit ratings than this keep all of them in a per-user split.
MIN_HOLDOUT_RATINGS = 10


def _explicit(ratings: pd.DataFrame) -> np.ndarray:
    return ratings["rating"].to_numpy() >= 0


def random_split(
    ratings: pd.DataFrame, test_size: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random split identical to Surprise's train_test_split(test_size=..., random_state=seed).

    Surprise draws RandomState(seed).permutation(n) over the rows in order, puts the first
    n - ceil(test_size * n) in the trainset and the rest in the testset; so does this (over the
    explicit ratings), so a DataFrame loaded into Surprise with Dataset.load_from_df gives the
    same rows. Watched rows join the training side.
    """
    explicit = _explicit(ratings)
    rated = ratings.loc[explicit]
    n = len(rated)
    n_test = math.ceil(test_size * n)
    if not 0 < n_test < n:
        raise DataError(f"cannot split {n} ratings with test_size={test_size}")
    permutation = np.random.RandomState(seed).permutation(n)
    n_train = n - n_test
    train = rated.iloc[permutation[:n_train]]
    if not explicit.all():
        train = pd.concat([train, ratings.loc[~explicit]])
    return train, rated.iloc[permutation[n_train:]]


def holdout_mask(
    user_codes: np.ndarray, fraction: float, seed: int, min_ratings: int = MIN_HOLDOUT_RATINGS
) -> np.ndarray:
    """True for the ratings held out: of every user (``user_codes``, one per rating) with >=
    min_ratings ratings, floor(fraction * n_u) drawn at random (seeded)."""
    codes = np.asarray(user_codes)
    keys = np.random.default_rng(seed).random(len(codes))
    order = np.lexsort((keys, codes))
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    lengths = np.diff(np.r_[starts, len(codes)])
    rank = np.arange(len(codes)) - np.repeat(starts, lengths) + 1
    counts = np.repeat(lengths, lengths)
    n_test = np.where(counts >= max(min_ratings, 2), np.floor(counts * fraction), 0)
    held = np.zeros(len(codes), dtype=bool)
    held[order] = rank <= np.minimum(n_test, counts - 1)
    return held


def per_user_split(
    ratings: pd.DataFrame,
    test_fraction: float = 0.2,
    seed: int = 42,
    min_ratings: int = MIN_HOLDOUT_RATINGS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every user with >= min_ratings explicit ratings loses floor(test_fraction * n_u) of them,
    drawn at random (seeded); everyone else keeps all. For ranking metrics per user.
    """
    if not 0 < test_fraction < 1:
        raise DataError("test_fraction must be in (0, 1)")
    explicit = _explicit(ratings)
    rated = ratings.loc[explicit]
    codes, _ = pd.factorize(rated["user_id"])
    in_test = holdout_mask(codes, test_fraction, seed, min_ratings)
    train = rated.loc[~in_test]
    if not explicit.all():
        train = pd.concat([train, ratings.loc[~explicit]])
    return train, rated.loc[in_test]


def validation_split(
    train: pd.DataFrame, fraction: float = 0.1, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carve a per-user validation set out of a training set: (fit part, validation part).

    Every choice (hyper-parameters, blend weights, epochs) is made on the validation part, never
    on the test set; per user, so ranking choices have held-out items for each user.
    """
    return per_user_split(train, fraction, seed)
