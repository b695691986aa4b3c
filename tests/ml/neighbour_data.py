"""Small rating sets for the neighbour-kernel and fit-speed tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.data import RatingsData
from ml.models.knn.similarity import centred


def ratings_frame(n_users: int = 40, n_items: int = 30, seed: int = 3) -> pd.DataFrame:
    """Random 1-10 ratings with a few exact copies of users (tied similarities) and users
    with too few ratings for any neighbour."""
    rng = np.random.default_rng(seed)
    dense = np.where(
        rng.random((n_users, n_items)) < 0.45, rng.integers(1, 11, (n_users, n_items)), 0
    )
    dense[1] = dense[0]
    dense[2] = dense[0]
    dense[3, 3:] = 0  # at most 3 ratings
    users, items = np.nonzero(dense)
    return pd.DataFrame({"user_id": users, "anime_id": items, "rating": dense[users, items]})


def centred_rows(df: pd.DataFrame) -> sp.csr_matrix:
    data = RatingsData.from_dataframe(df)
    return centred(data.csr(), data.user_means())


def with_first_pair_repeated(data: RatingsData) -> RatingsData:
    """``data`` with its first (user, item, rating) row given twice, which from_dataframe never
    produces but a RatingsData made by hand may."""
    return RatingsData(
        data.users,
        data.items,
        np.concatenate([data.user_idx, data.user_idx[:1]]),
        np.concatenate([data.item_idx, data.item_idx[:1]]),
        np.concatenate([data.rating, data.rating[:1]]),
        data.rating_min,
        data.rating_max,
    )
