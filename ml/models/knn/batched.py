"""Kernels for scoring blocks of users at once (top-N precompute): sparse k-NN aggregation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def expand_rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position): for each stored entry of the CSR rows ``rows``, in order, the index
    into ``rows`` it came from and its position in the matrix's indices/data."""
    starts = indptr[rows].astype(np.int64)
    lengths = indptr[rows + 1].astype(np.int64) - starts
    owner = np.repeat(np.arange(len(rows)), lengths)
    first = np.cumsum(lengths) - lengths
    position = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - first, lengths)
    return owner, position


def candidate_mask(candidates: np.ndarray | None, n_items: int) -> np.ndarray | None:
    """rows x n_items, True at each row's candidate item indices (-1: padding); None for None."""
    if candidates is None:
        return None
    wanted = np.zeros((len(candidates), n_items), dtype=bool)
    rows, slots = np.nonzero(candidates >= 0)
    wanted[rows, candidates[rows, slots]] = True
    return wanted


def cost_blocks(costs: np.ndarray, budget: int) -> Iterator[slice]:
    """Consecutive slices of ``costs`` whose sums stay within ``budget`` (at least one each)."""
    start, total = 0, 0
    for position, cost in enumerate(costs.tolist()):
        if position > start and total + cost > budget:
            yield slice(start, position)
            start, total = position, 0
        total += cost
    if start < len(costs):
        yield slice(start, len(costs))


def first_k_weighted(
    keys: np.ndarray,
    ranks: np.ndarray,
    sims: np.ndarray,
    devs: np.ndarray,
    n_keys: int,
    k: int,
    damping: float,
) -> np.ndarray:
    """Sparse `weighted_top_k`: for each key, sum(s * d) / (sum(s) + damping) over its k
    candidates of lowest rank (the most similar neighbours); NaN for keys with no candidate.

    One entry per (key, candidate); ranks are unique within a key. Entries given in rank
    order (as the user-based model makes them) skip a sort.
    """
    counts = np.bincount(keys, minlength=n_keys)
    use = np.ones(len(keys), dtype=bool)
    over = np.flatnonzero(counts[keys] > k)
    if len(over) and bool((np.diff(ranks[over]) >= 0).all()):
        _drop_past_k_in_rank_order(keys[over], ranks[over], over, use, n_keys, k)
    elif len(over):
        order = over[np.argsort(keys[over] * (int(ranks.max()) + 1) + ranks[over])]
        sorted_keys = keys[order]
        new_group = np.ones(len(order), dtype=bool)
        new_group[1:] = sorted_keys[1:] != sorted_keys[:-1]
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
        use[order[np.arange(len(order)) - group_start >= k]] = False
    weights = np.where(use, sims, 0.0).astype(np.float64)
    num = np.bincount(keys, weights=weights * devs, minlength=n_keys)
    den = np.bincount(keys, weights=weights, minlength=n_keys)
    out = np.full(n_keys, np.nan)
    np.divide(num, den + damping, out=out, where=den > 0)
    return out


def _drop_past_k_in_rank_order(
    keys: np.ndarray, ranks: np.ndarray, where: np.ndarray, use: np.ndarray, n_keys: int, k: int
) -> None:
    """use[where[e]] = False for every entry e past its key's k-th; entries sorted by rank,
    so one pass per rank value (a key appears at most once per rank) counts them."""
    seen = np.zeros(n_keys, dtype=np.int32)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(ranks)) + 1, [len(ranks)]])
    for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        step = keys[start:stop]
        before = seen[step]
        use[where[start:stop][before >= k]] = False
        seen[step] = before + 1
