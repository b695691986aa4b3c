"""Ranking kernels every model shares: the top-k of each row, ties to the lower index."""

from __future__ import annotations

import numpy as np


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores) of the k largest finite values of each row, largest first.

    Equal scores are ordered by ascending index (also at the k-th place); -1 / NaN pad rows
    with fewer than k finite values.
    """
    n_rows, n_cols = scores.shape
    k = max(min(int(k), n_cols), 0)
    if k == 0 or n_rows == 0:
        return np.full((n_rows, k), -1, dtype=np.int64), np.full((n_rows, k), np.nan)
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
    above = scores > kth
    at_kth = scores == kth
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (at_kth & (np.cumsum(at_kth, axis=1) <= room))
    rows, flat_cols = np.nonzero(chosen)
    cols = flat_cols.reshape(n_rows, k)
    values = scores[rows.reshape(n_rows, k), cols]
    order = np.lexsort((cols, -values), axis=-1)
    cols = np.take_along_axis(cols, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    finite = np.isfinite(values)
    return np.where(finite, cols, -1), np.where(finite, values, np.nan)
