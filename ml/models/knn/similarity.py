"""Co-rated similarities between the rows of a centred sparse matrix, top-k kept (no n x n)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from ml.models.knn.dense import dense_top_k, keep_top_k

log = logging.getLogger(__name__)

#: Largest dense column factor (columns x active rows) for which the dense-block path is used.
DENSE_FACTOR_ELEMENTS = 16_000_000
#: Dense-block path when its multiply-adds are at most this many times the sparse path's.
DENSE_COST_RATIO = 8.0


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
    `dense` picks the path (None: `_prefers_dense`): dense-block (`dense_top_k`) or sparse
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
        dense_top_k(rows_x, active, min_support, shrinkage, neighbours, sims)
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
        keep_top_k(active[rows + start], active[cols], sim[1], out_cols, out_sims)
        if (start // block) % 10 == 0:
            log.info("similarities: rows %d-%d of %d", start, stop, n_rows)


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
