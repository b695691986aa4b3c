"""Sparse neighbourhood kernels shared by the user- and item-based models (no dense n x n)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

log = logging.getLogger(__name__)


def centred(matrix: sp.csr_matrix, row_means: np.ndarray) -> sp.csr_matrix:
    """Subtract each row's mean from its stored entries (explicit zeros are kept)."""
    out = matrix.astype(np.float32, copy=True)
    out.data -= np.repeat(row_means.astype(np.float32), np.diff(out.indptr))
    return out


def corated_similarity_top_k(
    x: sp.csr_matrix,
    *,
    k: int,
    min_support: int,
    shrinkage: float,
    block_elements: int = 24_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k positive similarities per row of a centred sparse matrix, computed by row blocks.

    sim(a, b) = sum_c x_ac x_bc / sqrt(sum_c x_ac^2 * sum_c x_bc^2), all sums over the columns c
    stored in both rows (co-rated); 0 when fewer than min_support columns are shared; then
    shrunk by n / (n + shrinkage). Co-rated sums come from products with the binary pattern B:
    num = X X^T, n = B B^T, den_a = X^2 B^T, den_b = B (X^2)^T = den_a^T (den_a and n in one
    complex product; den_b needs its own product only when the rows do not fit in one block of
    block_elements similarities).
    Returns (neighbours int32, similarities float32), each rows x k, sorted by similarity
    descending, padded with -1 / 0.
    """
    x = x.astype(np.float32).tocsr()
    n_rows = x.shape[0]
    k = max(1, min(k, n_rows - 1))
    pattern = x.copy()
    pattern.data = np.ones_like(pattern.data)
    squares = x.multiply(x).tocsr()
    x_t = x.T.tocsr()
    block = max(1, min(n_rows, block_elements // max(n_rows, 1)))
    squares_t = squares.T.tocsr() if block < n_rows else None
    pattern_t_c = pattern.T.tocsr().astype(np.complex64)
    neighbours = np.full((n_rows, k), -1, dtype=np.int32)
    sims = np.zeros((n_rows, k), dtype=np.float32)
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        rows, cols, sim = _block_similarities(
            x, x_t, squares, squares_t, pattern, pattern_t_c, start, stop, min_support
        )
        if shrinkage > 0:
            sim[1] *= sim[0] / (sim[0] + np.float32(shrinkage))
        _keep_top_k(rows, cols, sim[1], neighbours[start:stop], sims[start:stop])
        if (start // block) % 10 == 0:
            log.info("similarities: rows %d-%d of %d", start, stop, n_rows)
    return neighbours, sims


def _block_similarities(
    x: sp.csr_matrix,
    x_t: sp.csr_matrix,
    squares: sp.csr_matrix,
    squares_t: sp.csr_matrix | None,
    pattern: sp.csr_matrix,
    pattern_t_c: sp.csr_matrix,
    start: int,
    stop: int,
    min_support: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, [support, sim]) of the row pairs in start..stop with enough co-rated columns."""
    left = (squares[start:stop] + 1j * pattern[start:stop]).astype(np.complex64)
    corated = (left @ pattern_t_c).tocsr()  # real: sum_common x_a^2; imag: n_common (never 0)
    support = corated.data.imag
    kept = np.flatnonzero(support >= max(min_support, 1))
    rows = (np.searchsorted(corated.indptr, kept, side="right") - 1).astype(np.int32)
    cols = corated.indices[kept]
    not_self = cols != rows + start
    kept, rows, cols = kept[not_self], rows[not_self], cols[not_self]
    den_a = corated.data.real[kept]
    if squares_t is None:  # one block: sum_common x_b^2 is the transpose of the real part
        den_b = corated.real.toarray()[cols, rows]
    else:
        den_b = (pattern[start:stop] @ squares_t).toarray()[rows, cols]
    den = np.sqrt(np.maximum(den_a * den_b, 1e-12))
    support = support[kept]
    del corated
    num = (x[start:stop] @ x_t).toarray()[rows, cols]
    return rows, cols, np.vstack([support, num / den])


def _sort_keys(rows: np.ndarray, cols: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Unique int64 keys ordering by row ascending, sim (in (0, 1]) descending, col ascending.

    The 23 mantissa bits of the float32 2 - sim (exponent fixed for sim in (0, 1]) sit between
    the row and the col bits.
    """
    col_bits = max(1, int(cols.max(initial=0)).bit_length())
    if int(rows.max(initial=0)).bit_length() + 23 + col_bits > 63:
        raise ValueError("too many rows/columns for 64-bit sort keys")
    mantissa = (np.float32(2.0) - sim.astype(np.float32)).view(np.int32) & 0x7FFFFF
    return (
        (rows.astype(np.int64) << (23 + col_bits)) | (mantissa.astype(np.int64) << col_bits) | cols
    )


def _keep_top_k(
    rows: np.ndarray, cols: np.ndarray, sim: np.ndarray, out_cols: np.ndarray, out_sim: np.ndarray
) -> None:
    """Write the k largest positive (col, sim) of each row into out_cols/out_sim (rows x k).

    Ties in similarity are broken by ascending col.
    """
    positive = (sim > 0) & np.isfinite(sim)
    rows, cols, sim = rows[positive], cols[positive], sim[positive]
    order = np.argsort(_sort_keys(rows, cols, np.minimum(sim, 1.0)))
    rows, cols, sim = rows[order], cols[order], sim[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    keep = rank < out_cols.shape[1]
    out_cols[rows[keep], rank[keep]] = cols[keep]
    out_sim[rows[keep], rank[keep]] = sim[keep]


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
