"""UserBasedCF: a hand-computed Pearson similarity and predictions equal to a reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bench.reference_knn import pearson_corated, user_based_predictions
from ml.models import UserBasedCF


def three_users() -> pd.DataFrame:
    rows = [
        ("a", 1, 5), ("a", 2, 3), ("a", 3, 4), ("a", 4, 1),
        ("b", 1, 4), ("b", 2, 2), ("b", 3, 5), ("b", 5, 3),
        ("c", 1, 1), ("c", 2, 5), ("c", 4, 4), ("c", 5, 2),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])


def random_ratings(n_users: int = 25, n_items: int = 15, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < 0.55
    users, items = np.nonzero(mask)
    ratings = np.clip(np.rint(6 + 2 * rng.standard_normal(len(users))), 1, 10)
    return pd.DataFrame({"user_id": users + 1, "anime_id": items + 100, "rating": ratings})


def test_pearson_by_hand() -> None:
    """a = (5, 3, 4, 1) mean 3.25, b = (4, 2, 5, 3) mean 3.5; co-rated items 1, 2, 3.

    centred a: 1.75, -0.25, 0.75; centred b: 0.5, -1.5, 1.5
    num = 0.875 + 0.375 + 1.125 = 2.375; den = sqrt(3.6875 * 4.75)
    """
    model = UserBasedCF(k=2, min_support=1, shrinkage=0.0, damping=0.0).fit(three_users())
    expected = 2.375 / math.sqrt(3.6875 * 4.75)
    assert dict(model.neighbours_of("a"))["b"] == pytest.approx(expected, rel=1e-5)
    assert "c" not in dict(model.neighbours_of("a"))  # negative correlation is dropped


def test_min_support_and_shrinkage() -> None:
    data = three_users()
    assert UserBasedCF(min_support=4, shrinkage=0.0).fit(data).neighbours_of("a") == []
    plain = dict(UserBasedCF(min_support=1, shrinkage=0.0).fit(data).neighbours_of("a"))["b"]
    shrunk = dict(UserBasedCF(min_support=1, shrinkage=6.0).fit(data).neighbours_of("a"))["b"]
    assert shrunk == pytest.approx(plain * 3 / 9, rel=1e-5)


def test_reference_pearson_matches_the_hand_computation() -> None:
    a = {1: 5.0, 2: 3.0, 3: 4.0, 4: 1.0}
    b = {1: 4.0, 2: 2.0, 3: 5.0, 5: 3.0}
    centred_a, centred_b = np.array([1.75, -0.25, 0.75]), np.array([0.5, -1.5, 1.5])
    sim, n = pearson_corated(a, b, 3.25, 3.5)
    assert n == 3
    expected = centred_a @ centred_b / (np.linalg.norm(centred_a) * np.linalg.norm(centred_b))
    assert sim == pytest.approx(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"k": 3, "min_support": 2, "shrinkage": 0.0, "damping": 0.0, "centring": "mean"},
        {"k": 5, "min_support": 3, "shrinkage": 10.0, "damping": 1.0, "centring": "baseline"},
        {"k": 20, "min_support": 1, "shrinkage": 25.0, "damping": 0.5, "max_neighbours": 4},
    ],
)
def test_predictions_equal_reference_computation(params: dict) -> None:
    train = random_ratings()
    model = UserBasedCF(**params).fit(train)
    users = list(range(1, 26)) + [999]
    items = list(range(100, 115)) + [5]
    pairs = [(u, i) for u in users for i in items]
    expected = user_based_predictions(train, model, pairs)
    got = model.predict_many([u for u, _ in pairs], [i for _, i in pairs])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_score_all_equals_pairwise_predictions() -> None:
    model = UserBasedCF(k=4, min_support=2).fit(random_ratings())
    items = model.items.to_list()
    np.testing.assert_allclose(model.score_all(3), model.predict_many([3] * len(items), items))


def test_neighbour_lists_are_sparse_top_k() -> None:
    model = UserBasedCF(max_neighbours=5, min_support=1).fit(random_ratings())
    assert model._neighbours is not None and model._neighbours.shape == (25, 5)
    sims = [s for _, s in model.neighbours_of(1)]
    assert sims == sorted(sims, reverse=True) and all(s > 0 for s in sims)
