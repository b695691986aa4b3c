"""Dense-block path of the co-rated top-k similarities, and the top-k selection both paths use."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

#: Largest block of similarities (rows x active rows) the dense-block path holds at once.
DENSE_BLOCK_ELEMENTS = 4_000_000
#: Rows x active rows of similarities computed and reduced to their top k at once.
CHUNK_ELEMENTS = 131_072
#: Top-k by a sort of the kept pairs, not of whole rows, below 1 / SPARSE_KEEP of them kept.
SPARSE_KEEP = 4


def dense_top_k(
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
        keep_top_k_dense(active[lo:hi], active, sim, valid, out_cols, out_sims)


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


def keep_top_k(
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


def keep_top_k_dense(
    rows: np.ndarray,
    cols: np.ndarray,
    sim: np.ndarray,
    valid: np.ndarray,
    out_cols: np.ndarray,
    out_sim: np.ndarray,
) -> None:
    """`keep_top_k` of a dense block (sim: len(rows) x len(cols), cols ascending; entries
    where `valid` is False are left out): the same choice and order, by a row-wise sort of
    (2 - sim mantissa, column position) keys when at least 1 / SPARSE_KEEP entries are kept.
    `valid` is updated in place (positive, finite similarities only)."""
    valid &= sim > 0
    valid &= np.isfinite(sim)
    if np.count_nonzero(valid) * SPARSE_KEEP < valid.size:
        row, col = np.nonzero(valid)
        keep_top_k(rows[row], cols[col], sim[row, col], out_cols, out_sim)
        return
    col_bits = max(1, (len(cols) - 1).bit_length())
    mantissa = np.minimum(sim, np.float32(1.0))
    np.subtract(np.float32(2.0), mantissa, out=mantissa)
    bits = mantissa.view(np.int32)
    bits &= 0x7FFFFF
    bits |= np.invert(valid).view(np.uint8).astype(np.int32) << 23  # left out: after all kept
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
