"""Ranking machinery every model shares.

A model's list for a user is made in two stages, the same way for one user, for a batch of users
and for a user folded in from their current ratings:

1. interaction scores (which anime a person with these interactions chooses to watch), made
   non-negative and divided by the user's largest, plus ``TIE_BREAK`` x the item's share of the
   most-rated item's ratings (so items without any signal follow popularity); items the user has
   seen are left out; the ``candidates`` best are kept;
2. each candidate's score is multiplied by the like factor sigmoid((r_hat - c) / t) of the
   model's predicted rating r_hat, c the relevance threshold and t = ``like_temperature`` x the
   scale's span (no factor when it is None), and the best are returned.

Ties go to the earlier candidate, i.e. the higher stage-1 score, then the lower item index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.metrics import ranking_scores, relevance_threshold

#: Candidates re-scored by the like factor per user (also the longest list served).
CANDIDATES = 200
#: Weight of the popularity tie-break next to interaction scores scaled to at most 1.
TIE_BREAK = 1e-6
#: Like-factor temperatures (fractions of the rating scale's span) tried on validation.
LIKE_GRID: tuple[float | None, ...] = (None, 0.05, 0.1, 0.2, 0.4)
#: Validation users ranked at most when choosing hyper-parameters (a seeded sample above).
VALIDATION_USERS = 1000
VALIDATION_K = 10


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


def like_factor(
    ratings: np.ndarray, rating_min: float, rating_max: float, temperature: float | None
) -> np.ndarray:
    """sigmoid((r - c) / (temperature * span)), c the relevance threshold; 1 when temperature is
    None (NaN ratings count as the threshold)."""
    if temperature is None:
        return np.ones_like(ratings, dtype=np.float64)
    centre = relevance_threshold(rating_min, rating_max)
    scale = temperature * (rating_max - rating_min)
    z = (np.nan_to_num(np.asarray(ratings, dtype=np.float64), nan=centre) - centre) / scale
    return 1.0 / (1.0 + np.exp(-z))


def stage_one(
    interaction: np.ndarray, seen: sp.csr_matrix, popularity: np.ndarray, candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate item indices, their stage-1 scores), rows x candidates, best first."""
    scores = np.maximum(np.nan_to_num(np.asarray(interaction, dtype=np.float64)), 0.0)
    largest = scores.max(axis=1, keepdims=True) if scores.shape[1] else np.zeros((len(scores), 1))
    np.divide(scores, largest, out=scores, where=largest > 0)
    scores += TIE_BREAK * popularity[None, :]
    excluded = seen.tocoo()
    scores[excluded.row, excluded.col] = -np.inf
    return top_k_rows(scores, candidates)


def stage_two(
    candidates: np.ndarray,
    stage_scores: np.ndarray,
    ratings: np.ndarray,
    k: int,
    like: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(item indices, predicted ratings), rows x k, best first: stage-1 score x like factor."""
    final = np.where(candidates >= 0, stage_scores * like, -np.inf)
    position, _ = top_k_rows(final, k)
    found = position >= 0
    safe = np.maximum(position, 0)
    items = np.where(found, np.take_along_axis(candidates, safe, axis=1), -1)
    chosen = np.where(found, np.take_along_axis(ratings, safe, axis=1), np.nan)
    return items, chosen


@dataclass(frozen=True)
class ValidationTargets:
    """Users (model indices) with a relevant validation rating, and those ratings' items."""

    users: np.ndarray
    relevant: sp.csr_matrix

    def __len__(self) -> int:
        return len(self.users)

    def ndcg(self, top: np.ndarray) -> float:
        """Mean NDCG@VALIDATION_K of ranked item indices, one row per user."""
        if not len(self.users):
            return 0.0
        return float(self.ndcg_per_user(top).mean())

    def ndcg_per_user(self, top: np.ndarray) -> np.ndarray:
        """NDCG@VALIDATION_K of each user's ranked item indices."""
        return ranking_scores(top, self.relevant, VALIDATION_K)[2]


def validation_targets(
    validation: pd.DataFrame,
    user_index: Callable[[np.ndarray], np.ndarray],
    item_index: Callable[[np.ndarray], np.ndarray],
    n_items: int,
    threshold: float,
    seed: int = 42,
    max_users: int = VALIDATION_USERS,
) -> ValidationTargets:
    """The relevant validation ratings (rating >= threshold) of users the model knows, as a
    users x items matrix; a seeded sample of ``max_users`` users when there are more."""
    rated = validation.loc[validation["rating"].to_numpy() >= threshold]
    users = user_index(rated["user_id"].to_numpy())
    items = item_index(rated["anime_id"].to_numpy())
    return targets_from_pairs(users, items, n_items, seed, max_users)


def targets_from_pairs(
    users: np.ndarray,
    items: np.ndarray,
    n_items: int,
    seed: int = 42,
    max_users: int = VALIDATION_USERS,
) -> ValidationTargets:
    """ValidationTargets of relevant (user index, item index) pairs (-1: unknown, dropped)."""
    users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
    known = (users >= 0) & (items >= 0)
    users, items = users[known], items[known]
    unique = np.unique(users)
    if not len(unique):
        return ValidationTargets(unique, sp.csr_matrix((0, n_items)))
    if len(unique) > max_users:
        unique = np.sort(np.random.default_rng(seed).choice(unique, max_users, replace=False))
    rows = np.searchsorted(unique, users)
    keep = (rows < len(unique)) & (unique[np.minimum(rows, len(unique) - 1)] == users)
    relevant = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], items[keep])), shape=(len(unique), n_items)
    )
    relevant.data[:] = 1.0
    return ValidationTargets(unique, relevant)
