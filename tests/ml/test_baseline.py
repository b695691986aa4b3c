"""BaselinePredictor: same ALS as Surprise's BaselineOnly; biases by hand on a tiny case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models import BaselinePredictor, PopularityRecommender
from tests.ml.rating_data import two_taste_groups


def test_one_epoch_by_hand() -> None:
    """mu = 3; item 1: ratings 5, 3 -> b_1 = (2 + 0) / (1 + 2) with reg_i = 1; b_2 = -2 / 2."""
    data = pd.DataFrame(
        {"user_id": ["a", "b", "a"], "anime_id": [1, 1, 2], "rating": [5.0, 3.0, 1.0]}
    )
    model = BaselinePredictor(reg_u=1.0, reg_i=1.0, n_epochs=1).fit(data)
    biases = model._check_fitted()[2]
    assert biases.mu == pytest.approx(3.0)
    assert biases.bi == pytest.approx([2 / 3, -1.0])
    # b_a = ((5 - 3 - 2/3) + (1 - 3 + 1)) / (1 + 2)
    assert biases.bu[0] == pytest.approx((4 / 3 - 1) / 3)
    assert model.predict("zz", 999) == pytest.approx(3.0)
    assert model.predict("zz", 1) == pytest.approx(3 + 2 / 3)


def test_matches_surprise_baseline_only() -> None:
    surprise = pytest.importorskip("surprise")
    data = two_taste_groups().drop_duplicates(["user_id", "anime_id"], keep="last")
    dataset = surprise.Dataset.load_from_df(data, surprise.Reader(rating_scale=(1, 10)))
    algo = surprise.BaselineOnly(verbose=False).fit(dataset.build_full_trainset())
    ours = BaselinePredictor().fit(data)
    pairs = [(u, i) for u in data["user_id"].unique()[:6] for i in range(100, 110)]
    theirs = [algo.predict(u, i).est for u, i in pairs]
    got = ours.predict_many([u for u, _ in pairs], [i for _, i in pairs])
    np.testing.assert_allclose(got, theirs, atol=1e-6)


def test_rating_scale_comes_from_the_data(tiny_ratings: pd.DataFrame) -> None:
    model = BaselinePredictor().fit(tiny_ratings)
    assert (model.rating_min, model.rating_max) == (1.0, 5.0)
    assert 1.0 <= model.predict("d", 2) <= 5.0


def test_popularity_ranks_by_count() -> None:
    data = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 1, 2, 1],
            "anime_id": [7, 7, 7, 8, 8, 9],
            "rating": [5, 5, 5, 9, 9, 10],
        }
    )
    recs = PopularityRecommender(damping=0.0).fit(data).recommend(4, n=3)
    assert [anime for anime, _ in recs] == [7, 8, 9]
    assert [score for _, score in recs] == pytest.approx([5.0, 9.0, 10.0])
