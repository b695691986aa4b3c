"""ml.training.evaluate: rating errors, relevance and ranking metrics by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ml.data import Vocabulary
from ml.metrics import ranking_scores, rating_errors, relevance_threshold
from ml.training.evaluate import EvaluationConfig, ranking_metrics


def test_rating_errors_by_hand() -> None:
    errors = rating_errors(np.array([4.0, 2.0, 5.0]), np.array([3.0, 2.0, 7.0]))
    assert errors["mae"] == pytest.approx((1 + 0 + 2) / 3)
    assert errors["rmse"] == pytest.approx(np.sqrt((1 + 0 + 4) / 3))


def test_relevance_threshold_is_a_fraction_of_the_scale() -> None:
    assert relevance_threshold(1, 10) == 7.75
    assert relevance_threshold(1, 5) == 4.0


def test_ranking_scores_by_hand() -> None:
    # row 0: hits at ranks 1 and 3 of 4; 3 relevant items (item 5 never recommended)
    # row 1: a list shorter than k (-1 pads) with its only relevant item first
    top = np.array([[0, 7, 1, 8], [2, -1, -1, -1]])
    relevant = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0], ([0, 0, 0, 1], [0, 1, 5, 2])), shape=(2, 9))
    precision, recall, ndcg = ranking_scores(top, relevant, k=4)
    assert precision == pytest.approx([2 / 4, 1 / 4])
    assert recall == pytest.approx([2 / 3, 1.0])
    dcg = 1 / np.log2(2) + 1 / np.log2(4)
    idcg = 1 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(4)
    assert ndcg == pytest.approx([dcg / idcg, 1.0])
    # a relevant item outside the matrix (a model never saw it) still counts in recall and IDCG
    _, recall, ndcg = ranking_scores(top[1:], relevant[1:], k=4, n_relevant=np.array([2]))
    assert recall == pytest.approx([0.5]) and ndcg == pytest.approx([1 / (1 + 1 / np.log2(3))])


class FixedRanker:
    """A stand-in model that ranks a fixed list for everyone."""

    rating_min, rating_max = 1.0, 10.0
    users = Vocabulary(["u1", "u2", "u3"])
    items = Vocabulary(["a", "b", "c", "d", "e"])

    def rank_users(self, user_idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        top = np.tile(np.array([0, 1])[:k], (len(user_idx), 1))
        return top, np.full(top.shape, 9.0)


def test_ranking_metrics_over_users_with_relevant_items() -> None:
    test = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u3"],
            "anime_id": ["a", "c", "b", "a"],
            "rating": [9, 8, 10, 3],  # u3 has nothing relevant: not ranked
        }
    )
    metrics = ranking_metrics(FixedRanker(), test, EvaluationConfig(k=2))  # type: ignore[arg-type]
    assert metrics["n_ranked_users"] == 2
    assert metrics["precision_at_k"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert metrics["recall_at_k"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg_u1 = 1.0 / (1.0 + 1 / np.log2(3))  # hit at rank 1 of 2 relevant
    ndcg_u2 = (1 / np.log2(3)) / 1.0  # hit at rank 2 of 1 relevant
    assert metrics["ndcg_at_k"] == pytest.approx((ndcg_u1 + ndcg_u2) / 2)
    assert metrics["coverage"] == pytest.approx(2 / 5)
    sampled = ranking_metrics(FixedRanker(), test, EvaluationConfig(k=2, max_users=1))  # type: ignore[arg-type]
    assert sampled["n_ranked_users"] == 1
