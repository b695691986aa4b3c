"""Cosine similarities of binary interactions (who watched what), top-k kept per row.

sim(a, b) = |A & B| / sqrt(|A| |B|) for the sets of columns two rows interacted with; only
positive similarities are kept, the most similar first, ties to the lower index. Rows are users
(user-based neighbours) or items (item-based neighbours, from the item co-occurrence counts that
EASE^R also starts from).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ml.models.knn.dense import keep_top_k_dense

#: Item rows of the co-occurrence matrix computed per sparse product.
COOCCURRENCE_BLOCK = 2048
#: Rows x rows similarities held at once by `row_cosine_top_k`.
BLOCK_ELEMENTS = 16_000_000


def item_cooccurrence(x: sp.csr_matrix, dtype: type = np.float64) -> np.ndarray:
    """G = X^T X (items x items, dense) of a users x items binary matrix, in blocks of items."""
    by_item = sp.csr_matrix(x.T, dtype=np.float32)
    n_items = by_item.shape[0]
    out = np.empty((n_items, n_items), dtype=dtype)
    x32 = sp.csr_matrix(x, dtype=np.float32)
    for start in range(0, n_items, COOCCURRENCE_BLOCK):
        stop = min(start + COOCCURRENCE_BLOCK, n_items)
        out[start:stop] = (by_item[start:stop] @ x32).toarray()
    return out


def cosine_top_k_from_counts(counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k cosine neighbours per row of a symmetric co-occurrence matrix (diagonal: sizes).

    Returns (neighbours int32, similarities float32), rows x k, -1 / 0 padded.
    """
    n = counts.shape[0]
    k = max(1, min(k, n - 1)) if n > 1 else 1
    neighbours = np.full((n, k), -1, dtype=np.int32)
    sims = np.zeros((n, k), dtype=np.float32)
    norms = np.sqrt(np.maximum(np.diag(counts), 1.0)).astype(np.float32)
    everyone = np.arange(n)
    chunk = max(1, BLOCK_ELEMENTS // max(n, 1))
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        block = counts[lo:hi].astype(np.float32) / (norms[lo:hi, None] * norms[None, :])
        block[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        keep_top_k_dense(everyone[lo:hi], everyone, block, block > 0, neighbours, sims)
    return neighbours, sims


def row_cosine_top_k(x: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k cosine neighbours of every row of a binary matrix (e.g. users x items), computed by
    blocks of rows against all rows (sparse products, dense blocks of similarities)."""
    x = sp.csr_matrix(x, dtype=np.float32)
    n = x.shape[0]
    k = max(1, min(k, n - 1)) if n > 1 else 1
    neighbours = np.full((n, k), -1, dtype=np.int32)
    sims = np.zeros((n, k), dtype=np.float32)
    sizes = np.diff(x.indptr).astype(np.float32)
    norms = np.sqrt(np.maximum(sizes, 1.0))
    x_t = sp.csr_matrix(x.T)
    everyone = np.arange(n)
    block = max(1, BLOCK_ELEMENTS // max(n, 1))
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        counts = (x[lo:hi] @ x_t).toarray()
        counts /= norms[lo:hi, None] * norms[None, :]
        counts[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        keep_top_k_dense(everyone[lo:hi], everyone, counts, counts > 0, neighbours, sims)
    return neighbours, sims


def neighbours_of_row(
    row: sp.csr_matrix, x: sp.csr_matrix, x_t: sp.csr_matrix, k: int, skip: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k cosine neighbours (indices, sims) among the rows of ``x`` of one new binary row
    (``x_t`` is x transposed as CSR); ``skip`` leaves one row of x out (the user's old row)."""
    counts = np.asarray((row @ x_t).todense()).ravel()
    size = max(float(row.nnz), 1.0)
    sizes = np.maximum(np.diff(x.indptr).astype(np.float64), 1.0)
    sims = counts / np.sqrt(size * sizes)
    if skip >= 0:
        sims[skip] = 0.0
    positive = np.flatnonzero(sims > 0)
    order = np.lexsort((positive, -sims[positive]))[:k]
    chosen = positive[order]
    return chosen.astype(np.int32), sims[chosen].astype(np.float32)
