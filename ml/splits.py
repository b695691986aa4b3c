"""Seeded train/test splits of a ratings DataFrame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ml.exceptions import DataError


def random_split(
    ratings: pd.DataFrame, test_size: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random split identical to Surprise's train_test_split(test_size=..., random_state=seed).

    Surprise draws RandomState(seed).permutation(n) over the rows in order, puts the first
    n - ceil(test_size * n) in the trainset and the rest in the testset; so does this, so a
    DataFrame loaded into Surprise with Dataset.load_from_df gives the same rows.
    """
    n = len(ratings)
    n_test = math.ceil(test_size * n)
    if not 0 < n_test < n:
        raise DataError(f"cannot split {n} ratings with test_size={test_size}")
    permutation = np.random.RandomState(seed).permutation(n)
    n_train = n - n_test
    return ratings.iloc[permutation[:n_train]], ratings.iloc[permutation[n_train:]]


def per_user_split(
    ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out floor(test_fraction * n_u) random ratings of every user (each keeps >= 1 in train).

    Users with a single rating stay entirely in train; for ranking metrics per user.
    """
    if not 0 < test_fraction < 1:
        raise DataError("test_fraction must be in (0, 1)")
    rng = np.random.default_rng(seed)
    keys = pd.Series(rng.random(len(ratings)), index=ratings.index)
    rank = keys.groupby(ratings["user_id"].to_numpy()).rank(method="first")
    counts = ratings.groupby("user_id")["user_id"].transform("size")
    n_test = np.minimum(np.floor(counts * test_fraction), counts - 1)
    in_test = (rank <= n_test).to_numpy()
    return ratings.loc[~in_test], ratings.loc[in_test]


def validation_split(
    train: pd.DataFrame, fraction: float = 0.1, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carve a random validation set out of a training set: (fit part, validation part).

    Tune hyper-parameters and blend weights on the validation part, never on the test set.
    """
    return random_split(train, test_size=fraction, seed=seed)
