"""Offline evaluation: rating accuracy, top-K ranking quality and catalogue coverage.

Definitions (every report states them; formulas in ml.metrics):

- RMSE and MAE over ALL test ratings; pairs the model cannot answer get its baseline fallback,
  exactly what ``predict`` serves.
- Relevant: a test rating >= ``relevance_threshold(min, max)`` (8-10 on 1-10, 4-5 on 1-5).
- Ranking: for each evaluated user the model's own list (``rank_users``, what ``recommend`` and
  the served lists return: nothing the user rated or watched in training, every other item a
  candidate). Evaluated users are the users the model knows with at least one relevant test
  rating (every one of them, or a seeded sample of ``max_users`` when there are more).
  Precision@K, Recall@K (relevant items the model never saw count too) and NDCG@K with binary
  gains, each averaged over the evaluated users.
- Coverage = distinct items recommended to the evaluated users / items in the model's catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.metrics import ranking_scores, rating_errors, relevance_threshold
from ml.models.base import Recommender

DEFAULT_K = 10
DEFAULT_MAX_USERS = 2000
RANK_BATCH = 256


@dataclass(frozen=True)
class EvaluationConfig:
    """Ranking settings: K, the users ranked at most (None: all) and the sampling seed."""

    k: int = DEFAULT_K
    max_users: int | None = DEFAULT_MAX_USERS
    seed: int = 42


@dataclass(frozen=True)
class RankingTargets:
    """The evaluated users (model indices), their relevant known items and relevant counts."""

    users: np.ndarray
    relevant: sp.csr_matrix
    n_relevant: np.ndarray
    threshold: float


def ranking_targets(
    model: Recommender, test: pd.DataFrame, config: EvaluationConfig
) -> RankingTargets:
    """Users the model knows with a relevant test rating, sampled to ``config.max_users``."""
    threshold = relevance_threshold(model.rating_min, model.rating_max)
    liked = test.loc[test["rating"].to_numpy() >= threshold]
    users_vocab = model.users
    if users_vocab is None:
        raise ValueError("the model is not fitted")
    users = users_vocab.indices_of(liked["user_id"].to_numpy())
    items = model.items.indices_of(liked["anime_id"].to_numpy())
    evaluated = np.unique(users[users >= 0])
    if config.max_users is not None and len(evaluated) > config.max_users:
        chosen = np.random.default_rng(config.seed).choice(len(evaluated), config.max_users, False)
        evaluated = evaluated[np.sort(chosen)]
    rows = np.searchsorted(evaluated, users)
    inside = (users >= 0) & (rows < len(evaluated))
    inside[inside] &= evaluated[rows[inside]] == users[inside]
    n_relevant = np.bincount(rows[inside], minlength=len(evaluated))
    known = inside & (items >= 0)
    relevant = sp.csr_matrix(
        (np.ones(int(known.sum())), (rows[known], items[known])),
        shape=(len(evaluated), len(model.items)),
    )
    relevant.data[:] = 1.0
    return RankingTargets(evaluated.astype(np.int64), relevant, n_relevant, threshold)


def ranking_metrics(
    model: Recommender, test: pd.DataFrame, config: EvaluationConfig | None = None
) -> dict[str, float]:
    """Precision@K, recall@K, NDCG@K and catalogue coverage over the evaluated test users."""
    cfg = config or EvaluationConfig()
    targets = ranking_targets(model, test, cfg)
    n_users = len(targets.users)
    totals = np.zeros(3)
    recommended: set[int] = set()
    for start in range(0, n_users, RANK_BATCH):
        rows = slice(start, start + RANK_BATCH)
        top, _ = model.rank_users(targets.users[rows], cfg.k)
        recommended.update(top[top >= 0].tolist())
        scores = ranking_scores(top, targets.relevant[rows], cfg.k, targets.n_relevant[rows])
        totals += [float(part.sum()) for part in scores]
    means = totals / n_users if n_users else np.full(3, math.nan)
    return {
        "precision_at_k": float(means[0]),
        "recall_at_k": float(means[1]),
        "ndcg_at_k": float(means[2]),
        "coverage": len(recommended) / max(len(model.items), 1),
        "k": cfg.k,
        "n_ranked_users": n_users,
        "relevance_threshold": targets.threshold,
    }


def evaluate_model(
    model: Recommender, test: pd.DataFrame, config: EvaluationConfig | None = None
) -> dict[str, Any]:
    """Every metric of one fitted model on a test DataFrame (user_id, anime_id, rating)."""
    predicted = model.predict_many(test["user_id"].to_numpy(), test["anime_id"].to_numpy())
    metrics: dict[str, Any] = rating_errors(test["rating"].to_numpy(), predicted)
    metrics.update(ranking_metrics(model, test, config))
    metrics["n_test"] = len(test)
    return metrics
