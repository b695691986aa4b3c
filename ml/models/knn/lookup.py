"""Neighbour aggregation and the rating lookup the k-NN models predict from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from ml.data import RatingsData


def weighted_top_k(
    found: np.ndarray, sims: np.ndarray, devs: np.ndarray, k: int, damping: float = 0.0
) -> np.ndarray:
    """sum(s * d) / (sum(s) + damping) over the first k found candidates of each row
    (candidates sorted by similarity descending); NaN where no candidate was found.

    damping > 0 pulls the deviation towards 0 when the neighbours are few or weakly similar."""
    use = found & (np.cumsum(found, axis=1) <= k)
    weights = np.where(use, sims, 0.0).astype(np.float64)
    num = (weights * np.where(use, devs, 0.0)).sum(axis=1)
    den = weights.sum(axis=1)
    out = np.full(len(den), np.nan)
    np.divide(num, den + damping, out=out, where=den > 0)
    return out


SAVED_KEYS = ("lookup_indptr", "lookup_indices", "lookup_data")


class RatingLookup:
    """Vectorised (row, col) -> value lookup in a CSR matrix (binary search within each row).

    Values are stored shifted by OFFSET so that a stored 0 is told apart from a missing entry.
    """

    OFFSET = 1024.0

    def __init__(self, matrix: sp.csr_array) -> None:
        self.matrix = matrix

    @classmethod
    def build(
        cls, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
    ) -> RatingLookup:
        shifted = values.astype(np.float64) + cls.OFFSET
        matrix = sp.csr_array((shifted, (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        return cls(matrix)

    @classmethod
    def from_arrays(
        cls, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int]
    ) -> RatingLookup:
        return cls(sp.csr_array((data, indices, indptr), shape=shape))

    def saved_arrays(self) -> dict[str, Any]:
        """The lookup's arrays by the keys a model's ``.npz`` state stores them under."""
        m = self.matrix
        return dict(zip(SAVED_KEYS, (m.indptr, m.indices, m.data), strict=True))

    @classmethod
    def from_saved(cls, state: Mapping[str, np.ndarray], shape: tuple[int, int]) -> RatingLookup:
        """The lookup ``saved_arrays`` wrote into ``state`` (an opened ``.npz``)."""
        indptr, indices, data = (state[key] for key in SAVED_KEYS)
        return cls.from_arrays(indptr, indices, data, shape)

    def find(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, value where found else 0) for broadcastable index arrays (-1 = none)."""
        rows, cols = np.broadcast_arrays(rows, cols)
        raw = self.matrix[np.maximum(rows, 0).ravel(), np.maximum(cols, 0).ravel()]
        raw = np.asarray(raw).reshape(rows.shape)
        found = (raw != 0) & (rows >= 0) & (cols >= 0)
        return found, np.where(found, raw - self.OFFSET, 0.0)

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, values) stored in one row."""
        m = self.matrix
        lo, hi = m.indptr[row], m.indptr[row + 1]
        return m.indices[lo:hi], m.data[lo:hi] - self.OFFSET

    def dense_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, values) of whole rows as dense len(rows) x n_cols arrays."""
        raw = self.matrix[rows].toarray()
        found = raw != 0
        return found, np.where(found, raw - self.OFFSET, 0.0)


def deviation_lookup(
    data: RatingsData,
    ratings: sp.csr_matrix,
    base: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> RatingLookup:
    """RatingLookup of r_ui - base(u, i) over the training ratings; `ratings` is data.csr().

    Reuses that matrix's structure instead of building another one from the pairs.
    """
    if ratings.nnz != data.n_ratings:  # repeated pairs were summed: deviations per input row
        devs = data.rating - base(data.user_idx, data.item_idx)
        return RatingLookup.build(data.user_idx, data.item_idx, devs, ratings.shape)
    rows = np.repeat(np.arange(ratings.shape[0]), np.diff(ratings.indptr))
    devs = ratings.data - base(rows, ratings.indices)
    shifted = devs.astype(np.float64) + RatingLookup.OFFSET
    return RatingLookup.from_arrays(ratings.indptr, ratings.indices, shifted, ratings.shape)
