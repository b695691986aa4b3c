"""Neighbourhood kernels shared by the user- and item-based models (no dense n x n kept)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp

from ml.data import RatingsData

log = logging.getLogger(__name__)

#: Largest dense column factor (columns x active rows) for which the dense-block path is used.
DENSE_FACTOR_ELEMENTS = 16_000_000
#: Dense-block path when its multiply-adds are at most this many times the sparse path's.
DENSE_COST_RATIO = 8.0
#: Largest block of similarities (rows x active rows) the dense-block path holds at once.
DENSE_BLOCK_ELEMENTS = 4_000_000
#: Rows x active rows of similarities computed and reduced to their top k at once.
CHUNK_ELEMENTS = 131_072
#: Top-k by a sort of the kept pairs, not of whole rows, below 1 / SPARSE_KEEP of them kept.
SPARSE_KEEP = 4


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
    dense: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k positive similarities per row of a centred sparse matrix, computed by row blocks.

    sim(a, b) = sum_c x_ac x_bc / sqrt(sum_c x_ac^2 * sum_c x_bc^2), all sums over the columns c
    stored in both rows (co-rated); 0 when fewer than min_support columns are shared; then
    shrunk by n / (n + shrinkage). Co-rated sums come from products with the binary pattern B:
    num = X X^T, n = B B^T, den_a = X^2 B^T, den_b = B (X^2)^T = den_a^T. Only rows with at
    least min_support entries take part (the others have no neighbours and are no one's).
    `dense` picks the path (None: `_prefers_dense`): dense-block (`_dense_top_k`) or sparse
    (`_sparse_top_k`); both give the same bits.
    Returns (neighbours int32, similarities float32), each rows x k, sorted by similarity
    descending, padded with -1 / 0.
    """
    x = x.astype(np.float32).tocsr()
    n_rows = x.shape[0]
    k = max(1, min(k, n_rows - 1))
    neighbours = np.full((n_rows, k), -1, dtype=np.int32)
    sims = np.zeros((n_rows, k), dtype=np.float32)
    active = np.flatnonzero(np.diff(x.indptr) >= max(min_support, 1))
    if len(active) < 2:
        return neighbours, sims
    rows_x = x[active]
    if _prefers_dense(rows_x) if dense is None else dense:
        _dense_top_k(rows_x, active, min_support, shrinkage, neighbours, sims)
    else:
        _sparse_top_k(rows_x, active, min_support, shrinkage, neighbours, sims, block_elements)
    return neighbours, sims


def _prefers_dense(x: sp.csr_matrix) -> bool:
    """Whether the dense-block path looks cheaper for these rows (timed on the anime sample and
    MovieLens 100K, both ways).

    Its products cost stored entries x rows vectorised multiply-adds; the sparse path's cost
    sum over columns of (entries per column)^2 scattered ones plus the handling of up to
    rows^2 sparse results, each about DENSE_COST_RATIO times dearer. The dense column factors
    (columns x rows) must stay within DENSE_FACTOR_ELEMENTS.
    """
    n_rows, n_cols = x.shape
    if n_rows * n_cols > DENSE_FACTOR_ELEMENTS:
        return False
    per_column = np.bincount(x.indices, minlength=n_cols).astype(np.float64)
    sparse_cost = float(per_column @ per_column) + 4.0 * n_rows * n_rows
    return x.nnz * n_rows <= DENSE_COST_RATIO * sparse_cost


def _sparse_top_k(
    x: sp.csr_matrix,
    active: np.ndarray,
    min_support: int,
    shrinkage: float,
    out_cols: np.ndarray,
    out_sims: np.ndarray,
    block_elements: int,
) -> None:
    """Sparse path: den_a and n in one complex product, den_b its own product only when the
    rows do not fit in one block of block_elements similarities; num against a dense X^T when
    that fits in DENSE_FACTOR_ELEMENTS (same sums, no sparse result to build)."""
    n_rows, n_cols = x.shape
    pattern = x.copy()
    pattern.data = np.ones_like(pattern.data)
    squares = x.multiply(x).tocsr()
    small = n_rows * n_cols <= DENSE_FACTOR_ELEMENTS
    x_t: sp.csr_matrix | np.ndarray = x.T.toarray(order="C") if small else x.T.tocsr()
    block = max(1, min(n_rows, block_elements // n_rows))
    squares_t = squares.T.tocsr() if block < n_rows else None
    pattern_t_c = pattern.T.tocsr().astype(np.complex64)
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        rows, cols, sim = _block_similarities(
            x, x_t, squares, squares_t, pattern, pattern_t_c, start, stop, min_support
        )
        if shrinkage > 0:
            sim[1] *= sim[0] / (sim[0] + np.float32(shrinkage))
        _keep_top_k(active[rows + start], active[cols], sim[1], out_cols, out_sims)
        if (start // block) % 10 == 0:
            log.info("similarities: rows %d-%d of %d", start, stop, n_rows)


def _dense_top_k(
    x: sp.csr_matrix,
    active: np.ndarray,
    min_support: int,
    shrinkage: float,
    out_cols: np.ndarray,
    out_sims: np.ndarray,
) -> None:
    """Dense-block path: sparse rows times dense column factors, chunk by chunk of rows.

    Sparse-dense products sum over each row's stored columns in the same order as the sparse
    path's, so the similarities are bit-for-bit the same; each chunk of similarities is reduced
    to its top k, then discarded.
    """
    pattern = x.copy()
    pattern.data = np.ones_like(pattern.data)
    count_type = np.int16 if x.shape[1] < np.iinfo(np.int16).max else np.float32
    products = _dense_products(x, pattern, pattern.astype(count_type))
    for lo, hi, num, den_a, den_b, counts in products:
        den = np.multiply(den_a, den_b)
        np.sqrt(np.maximum(den, 1e-12, out=den), out=den)
        sim = np.divide(num, den, out=den)
        support = counts.astype(np.float32)
        if shrinkage > 0:
            weight = support + np.float32(shrinkage)
            sim *= np.divide(support, weight, out=weight)
        sim[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        valid = support >= max(min_support, 1)
        _keep_top_k_dense(active[lo:hi], active, sim, valid, out_cols, out_sims)


def _dense_products(
    x: sp.csr_matrix, pattern: sp.csr_matrix, pattern_n: sp.csr_matrix
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(lo, hi, num, den_a, den_b, n) of rows lo..hi against every row, CHUNK_ELEMENTS at a
    time (small temporaries: reused memory, no page faults).

    When all rows x rows fit in DENSE_BLOCK_ELEMENTS, the results being symmetric (den_b =
    den_a^T), every product is a whole sparse matrix times a dense factor of a chunk's rows
    only (columns x chunk, cache-sized); otherwise blocks of rows go against dense factors of
    every row (columns x rows, C order: scipy would copy an F-ordered one at each use).
    """
    n_rows = x.shape[0]
    chunk = max(1, CHUNK_ELEMENTS // n_rows)
    if n_rows * n_rows <= DENSE_BLOCK_ELEMENTS:
        squares = x.multiply(x).tocsr()
        den_b = np.empty((n_rows, n_rows), dtype=np.float32)
        for lo in range(0, n_rows, chunk):
            den_b[:, lo : lo + chunk] = pattern @ squares[lo : lo + chunk].T.toarray(order="C")
        for lo in range(0, n_rows, chunk):
            hi = min(lo + chunk, n_rows)
            num = x @ x[lo:hi].T.toarray(order="C")
            counts = pattern_n @ pattern_n[lo:hi].T.toarray(order="C")
            yield lo, hi, num.T, den_b[:, lo:hi].T, den_b[lo:hi], counts.T
        return
    block = max(1, DENSE_BLOCK_ELEMENTS // n_rows)
    squares = x.multiply(x).tocsr()
    x_t, pattern_t = x.T.toarray(order="C"), pattern.T.toarray(order="C")
    squares_t, pattern_t_n = squares.T.toarray(order="C"), pattern_n.T.toarray(order="C")
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        num = x[start:stop] @ x_t
        den_a = squares[start:stop] @ pattern_t
        den_b = pattern[start:stop] @ squares_t
        counts = pattern_n[start:stop] @ pattern_t_n
        for lo in range(start, stop, chunk):
            part = slice(lo - start, min(lo + chunk, stop) - start)
            yield lo, min(lo + chunk, stop), num[part], den_a[part], den_b[part], counts[part]


def _block_similarities(
    x: sp.csr_matrix,
    x_t: sp.csr_matrix | np.ndarray,
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
    rows = np.repeat(np.arange(stop - start, dtype=np.int32), np.diff(corated.indptr))[kept]
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
    num = x[start:stop] @ x_t
    num = (num if isinstance(num, np.ndarray) else num.toarray())[rows, cols]
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
    order = np.argsort(_sort_keys(rows, cols, np.minimum(sim, 1.0)), kind="stable")
    rows = rows[order]
    counts = np.bincount(rows, minlength=len(out_cols))
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < out_cols.shape[1]
    chosen = order[keep]
    out_cols[rows[keep], rank[keep]] = cols[chosen]
    out_sim[rows[keep], rank[keep]] = sim[chosen]


def _keep_top_k_dense(
    rows: np.ndarray,
    cols: np.ndarray,
    sim: np.ndarray,
    valid: np.ndarray,
    out_cols: np.ndarray,
    out_sim: np.ndarray,
) -> None:
    """`_keep_top_k` of a dense block (sim: len(rows) x len(cols), cols ascending; entries
    where `valid` is False are left out): the same choice and order, by a row-wise sort of
    (2 - sim mantissa, column position) keys when at least 1 / SPARSE_KEEP entries are kept."""
    valid &= sim > 0
    valid &= np.isfinite(sim)
    if np.count_nonzero(valid) * SPARSE_KEEP < valid.size:
        row, col = np.nonzero(valid)
        _keep_top_k(rows[row], cols[col], sim[row, col], out_cols, out_sim)
        return
    col_bits = max(1, (len(cols) - 1).bit_length())
    mantissa = np.minimum(sim, np.float32(1.0))
    np.subtract(np.float32(2.0), mantissa, out=mantissa)
    bits = mantissa.view(np.int32)
    bits &= 0x7FFFFF
    np.copyto(bits, 1 << 23, where=~valid)  # left out: after every kept key
    keys = np.left_shift(bits, col_bits, dtype=np.int64)
    keys |= np.arange(len(cols), dtype=np.int64)
    keys.sort(axis=1)
    width = min(out_cols.shape[1], len(cols))
    best = keys[:, :width]
    found = best < (1 << (23 + col_bits))
    position = best & ((1 << col_bits) - 1)
    out_cols[rows, :width] = np.where(found, cols[position], -1)
    chosen = np.take_along_axis(sim, position, axis=1)
    out_sim[rows, :width] = np.where(found, chosen, np.float32(0.0))


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
