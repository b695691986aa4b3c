"""ItemBasedCF: a hand-computed adjusted cosine, the prediction formula, fold-in, neighbours."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.models import ItemBasedCF


def test_adjusted_cosine_by_hand(tiny_ratings: pd.DataFrame) -> None:
    """User means: a 10/3, b 11/3, c 8/3, d 3. Items 1 and 2 are co-rated by a, b, c:

    item 1 centred: 5/3, 1/3, -5/3; item 2 centred: 2/3, 4/3, -2/3
    sim = (10/9 + 4/9 + 10/9) / sqrt((25+1+25)/9 * (4+16+4)/9) = 24 / sqrt(51 * 24)
    """
    model = ItemBasedCF(k=5, min_support=1, shrinkage=0.0).fit(tiny_ratings)
    sims = dict(model.neighbours(1, k=5))
    assert sims[2] == pytest.approx(24 / math.sqrt(51 * 24), rel=1e-5)
    assert 3 not in sims  # item 3 is anti-correlated with item 1
    assert 1 not in sims


def test_prediction_is_baseline_plus_weighted_deviations(tiny_ratings: pd.DataFrame) -> None:
    data = tiny_ratings
    model = ItemBasedCF(k=5, min_support=1, shrinkage=0.0, damping=0.0).fit(data)
    biases = model._check_fitted()[2]
    users, items = model._check_fitted()[:2]

    def b(user: str, item: int) -> float:
        return float(biases.predict([users.index_of(user)], [items.index_of(item)])[0])

    # d rated items 1 and 3; the only positive neighbour of item 2 that d rated is item 1.
    sim_21 = dict(model.neighbours(2, k=5))[1]
    expected = b("d", 2) + sim_21 * (2 - b("d", 1)) / sim_21
    assert model.predict("d", 2) == pytest.approx(min(max(expected, 1), 5), rel=1e-5)


def test_shrinkage_and_damping(tiny_ratings: pd.DataFrame) -> None:
    plain = dict(ItemBasedCF(min_support=1, shrinkage=0.0).fit(tiny_ratings).neighbours(1))[2]
    shrunk = dict(ItemBasedCF(min_support=1, shrinkage=3.0).fit(tiny_ratings).neighbours(1))[2]
    assert shrunk == pytest.approx(plain * 3 / 6, rel=1e-5)
    damped = ItemBasedCF(min_support=1, shrinkage=0.0, damping=1e6).fit(tiny_ratings)
    baseline = damped.predict_many(["d"], [2], with_mask=True)
    biases = damped._check_fitted()[2]
    assert baseline[1][0]
    assert baseline[0][0] == pytest.approx(biases.predict([3], [1])[0], abs=1e-4)


def test_fold_in_recommends_for_an_unseen_user(tiny_ratings: pd.DataFrame) -> None:
    model = ItemBasedCF(k=5, min_support=1, shrinkage=0.0).fit(tiny_ratings)
    recs = model.recommend_for_ratings({1: 5, 42: 3}, n=5)
    assert [anime for anime, _ in recs] == [2, 3]  # 1 rated, 42 unknown; best first
    scores = dict(recs)
    assert scores[2] > scores[3]  # liked item 1, item 2 is similar to it
    assert model.recommend_for_ratings({1: 5}, n=5, exclude=[3]) == recs[:1]
    preds = model.predict_for_ratings({1: 5}, [2, 3, 999])
    assert preds[0] == pytest.approx(scores[2]) and preds[1] == pytest.approx(scores[3])
    assert 1 <= preds[2] <= 5


def test_fold_in_of_known_ratings_is_close_to_the_fitted_user(tiny_ratings: pd.DataFrame) -> None:
    data = tiny_ratings
    model = ItemBasedCF(k=5, min_support=1).fit(data)
    ratings_c = {a: r for _, a, r in data[data["user_id"] == "c"].itertuples(index=False)}
    folded = model.predict_for_ratings(ratings_c, [1, 2, 3])
    np.testing.assert_allclose(folded, model.predict_many(["c"] * 3, [1, 2, 3]), atol=0.5)


def test_neighbours_unknown_item(tiny_ratings: pd.DataFrame) -> None:
    model = ItemBasedCF().fit(tiny_ratings)
    assert model.neighbours(12345) == []
