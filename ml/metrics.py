"""Accuracy and ranking metrics, vectorised over users (no Flask, no models).

- RMSE = sqrt(mean((r_hat - r)^2)), MAE = mean(|r_hat - r|).
- Relevant: a held-out rating >= ``relevance_threshold(min, max)`` = min + 0.75 * (max - min),
  i.e. 8-10 on 1-10 and 4-5 on 1-5.
- For one user's ranked list of K items and their set of relevant items: Precision@K = hits / K,
  Recall@K = hits / |relevant|, NDCG@K = DCG / IDCG with binary gains,
  DCG = sum over hits of 1 / log2(rank + 1), IDCG the DCG of min(K, |relevant|) hits on top.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

RELEVANCE_FRACTION = 0.75


def relevance_threshold(rating_min: float, rating_max: float) -> float:
    """Smallest rating counted as relevant: min + 0.75 * (max - min)."""
    return rating_min + RELEVANCE_FRACTION * (rating_max - rating_min)


def rating_errors(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE and MAE of predictions against true ratings."""
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if len(true) == 0:
        return {"rmse": math.nan, "mae": math.nan}
    error = pred - true
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}


def ranking_scores(
    top: np.ndarray, relevant: sp.csr_matrix, k: int, n_relevant: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision@k, recall@k, ndcg@k) per row.

    ``top`` holds each row's ranked item indices (-1 pads short lists), ``relevant`` is a
    rows x items 0/1 matrix; ``n_relevant`` counts each row's relevant items when some are not
    in the matrix (items a model never saw), else the matrix's; rows without any score 0.
    """
    top = np.asarray(top)[:, :k]
    n_rows = top.shape[0]
    relevant = sp.csr_matrix(relevant)
    if n_rows == 0:
        empty = np.zeros(0)
        return empty, empty, empty
    rows = np.repeat(np.arange(n_rows), top.shape[1])
    cols = np.maximum(top.ravel(), 0)
    hits = np.asarray(relevant[rows, cols]).reshape(top.shape) > 0
    hits &= top >= 0
    if n_relevant is None:
        n_relevant = np.diff(relevant.indptr)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: top.shape[1]]).sum(axis=1)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(n_relevant, k)]
    n_hits = hits.sum(axis=1).astype(np.float64)
    safe = np.maximum(n_relevant, 1)
    return (
        n_hits / k,
        np.where(n_relevant > 0, n_hits / safe, 0.0),
        np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0),
    )
