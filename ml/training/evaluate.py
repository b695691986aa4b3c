"""Offline evaluation: rating accuracy, top-K ranking quality and catalogue coverage.

Definitions (every report states them):

- RMSE = sqrt(mean((r_hat - r)^2)) and MAE = mean(|r_hat - r|) over ALL test ratings; pairs the
  model cannot answer get its baseline fallback, exactly what ``predict`` serves.
- Relevant: a test rating >= ``relevance_threshold(min, max)`` = min + 0.75 * (max - min), i.e.
  >= 7.75 on 1-10 (8, 9, 10) and >= 4 on 1-5 (4, 5).
- Ranking: for each evaluated user the model's own ``recommend(user, k)`` (items rated in training
  are never recommended). Evaluated users are the test users with at least one relevant test
  rating (every one of them, or a seeded sample of ``max_users`` when there are more).
  Precision@K = hits / K; Recall@K = hits / |relevant|; NDCG@K = DCG / IDCG with binary
  gains, DCG = sum over hits of 1 / log2(rank + 1); each averaged over the evaluated users.
- Coverage = distinct items recommended to the evaluated users / items in the model's catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.models.base import Recommender

RELEVANCE_FRACTION = 0.75
DEFAULT_K = 10
DEFAULT_MAX_USERS = 2000


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
    recommended: list[Any], relevant: set[Any], k: int
) -> tuple[float, float, float]:
    """(precision@k, recall@k, ndcg@k) of one ranked list against a set of relevant items."""
    hits = np.array([item in relevant for item in recommended[:k]], dtype=np.float64)
    if not relevant:
        return 0.0, 0.0, 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((hits * discounts[: len(hits)]).sum())
    idcg = float(discounts[: min(k, len(relevant))].sum())
    n_hits = float(hits.sum())
    return n_hits / k, n_hits / len(relevant), dcg / idcg


@dataclass(frozen=True)
class EvaluationConfig:
    """Ranking settings: K, the users sampled at most and the sampling seed."""

    k: int = DEFAULT_K
    max_users: int | None = DEFAULT_MAX_USERS
    seed: int = 42


def relevant_by_user(test: pd.DataFrame, threshold: float) -> dict[Any, set[Any]]:
    """Raw user id -> set of relevant test anime ids (users without any are left out)."""
    liked = test.loc[test["rating"].to_numpy() >= threshold, ["user_id", "anime_id"]]
    return {
        user: set(items.tolist())
        for user, items in liked.groupby("user_id", sort=False)["anime_id"]
    }


def sample_users(users: list[Any], max_users: int | None, seed: int) -> list[Any]:
    """All users, or a seeded sample of max_users of them (order of the input kept)."""
    if max_users is None or len(users) <= max_users:
        return users
    chosen = np.sort(np.random.default_rng(seed).choice(len(users), max_users, replace=False))
    return [users[i] for i in chosen]


def ranking_metrics(
    model: Recommender, test: pd.DataFrame, config: EvaluationConfig | None = None
) -> dict[str, float]:
    """Precision@K, recall@K, NDCG@K and catalogue coverage over the evaluated test users."""
    cfg = config or EvaluationConfig()
    threshold = relevance_threshold(model.rating_min, model.rating_max)
    relevant = relevant_by_user(test, threshold)
    users = sample_users(list(relevant), cfg.max_users, cfg.seed)
    totals = np.zeros(3)
    recommended: set[Any] = set()
    for user in users:
        ranked = [anime_id for anime_id, _ in model.recommend(user, n=cfg.k)]
        recommended.update(ranked)
        totals += ranking_scores(ranked, relevant[user], cfg.k)
    means = totals / len(users) if users else np.full(3, math.nan)
    return {
        "precision_at_k": float(means[0]),
        "recall_at_k": float(means[1]),
        "ndcg_at_k": float(means[2]),
        "coverage": len(recommended) / max(len(model.items), 1),
        "k": cfg.k,
        "n_ranked_users": len(users),
        "relevance_threshold": threshold,
    }


def evaluate_model(
    model: Recommender, test: pd.DataFrame, config: EvaluationConfig | None = None
) -> dict[str, float]:
    """Every metric of one fitted model on a test DataFrame (user_id, anime_id, rating)."""
    predicted = model.predict_many(test["user_id"].to_numpy(), test["anime_id"].to_numpy())
    metrics: dict[str, float] = rating_errors(test["rating"].to_numpy(), predicted)
    metrics.update(ranking_metrics(model, test, config))
    metrics["n_test"] = len(test)
    return metrics
