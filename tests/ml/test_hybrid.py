"""HybridWeightedCF: simplex weights fitted on validation, NaN-aware blending, persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ml.data import RatingsData
from ml.models import HybridWeightedCF, ItemBasedCF, Recommender, UserBasedCF
from ml.models.baseline import BaselinePredictor
from tests.ml.rating_data import two_taste_groups


class Oracle(BaselinePredictor):
    """Answers the true rating for pairs it was told about, no answer (NaN) elsewhere."""

    def __init__(self, truth: pd.DataFrame | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.truth = (
            {} if truth is None else {(u, a): float(r) for u, a, r in truth.itertuples(index=False)}
        )

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        super()._fit(data, validation)

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        users, items, _ = self._check_fitted()
        pairs = zip(users.raw[user_idx].tolist(), items.raw[item_idx].tolist(), strict=True)
        return np.array([self.truth.get(pair, np.nan) for pair in pairs])


def split(data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = data.drop_duplicates(["user_id", "anime_id"], keep="last")
    return data.iloc[:-12], data.iloc[-12:]


def test_weights_are_non_negative_and_sum_to_one() -> None:
    train, validation = split(two_taste_groups())
    model = HybridWeightedCF(
        user_based_model=UserBasedCF(k=3, min_support=2),
        item_based_model=ItemBasedCF(k=3, min_support=2),
    ).fit(train, validation)
    assert set(model.weights) == {"user_based", "item_based"}  # ncf_model=None: two components
    assert all(w >= 0 for w in model.weights.values())
    assert sum(model.weights.values()) == pytest.approx(1.0)


def test_the_perfect_component_takes_all_the_weight() -> None:
    train, validation = split(two_taste_groups())
    oracle = Oracle(validation).fit(train)
    model = HybridWeightedCF(
        user_based_model=UserBasedCF(k=3, min_support=2).fit(train),
        item_based_model=oracle,
    ).fit(train, validation)
    assert model.weights["item_based"] == pytest.approx(1.0, abs=1e-3)


def test_weight_moves_to_the_components_that_answer() -> None:
    train, validation = split(two_taste_groups())
    oracle = Oracle(validation).fit(train)
    item_based = ItemBasedCF(k=3, min_support=1).fit(train)
    model = HybridWeightedCF(
        user_based_model=oracle,
        item_based_model=item_based,
        fit_weights=False,
        user_weight=0.5,
        item_weight=0.5,
    ).fit(train, validation)
    user, anime = train["user_id"].iloc[0], train["anime_id"].iloc[0]  # oracle: no answer
    assert model.predict(user, anime) == pytest.approx(item_based.predict(user, anime))
    u, a, r = validation.iloc[0]
    both = 0.5 * r + 0.5 * item_based.predict(u, a)
    assert model.predict(u, a) == pytest.approx(np.clip(both, 1, 10))


def test_explicit_weights_without_fitting() -> None:
    train, _ = split(two_taste_groups())
    model = HybridWeightedCF(user_weight=3, item_weight=1, fit_weights=False).fit(train)
    assert model.weights == pytest.approx({"user_based": 0.75, "item_based": 0.25})


def test_save_records_component_classes(tmp_path: Path) -> None:
    train, validation = split(two_taste_groups())
    model = HybridWeightedCF(
        user_based_model=UserBasedCF(k=3, min_support=2),
        item_based_model=ItemBasedCF(k=3, min_support=2),
    ).fit(train, validation)
    model.save(tmp_path)
    assert (tmp_path / "user_based" / "meta.json").exists()
    loaded = Recommender.load(tmp_path)
    assert isinstance(loaded, HybridWeightedCF)
    assert loaded.weights == pytest.approx(model.weights)
    assert isinstance(loaded.components["item_based"], ItemBasedCF)
    users, items = validation["user_id"].to_numpy(), validation["anime_id"].to_numpy()
    np.testing.assert_array_equal(
        loaded.predict_many(users, items), model.predict_many(users, items)
    )


def test_given_fitted_components_and_weights_it_predicts_and_recommends_without_fit() -> None:
    """HybridWeightedCF(user_based_model=..., item_based_model=..., user_weight=0.4,
    item_weight=0.6).predict(u, i), as the reference design's usage example reads."""
    ratings = two_taste_groups()
    fitted_user = UserBasedCF(k=3, min_support=2).fit(ratings)
    fitted_item = ItemBasedCF(k=3, min_support=2).fit(ratings)
    hybrid = HybridWeightedCF(
        user_based_model=fitted_user, item_based_model=fitted_item, user_weight=0.4, item_weight=0.6
    )
    user, anime = ratings["user_id"].iloc[3], 105
    expected = 0.4 * fitted_user.predict(user, anime) + 0.6 * fitted_item.predict(user, anime)
    assert hybrid.predict(user, anime) == pytest.approx(expected)
    rated = set(ratings.loc[ratings["user_id"] == user, "anime_id"])
    recommended = hybrid.recommend(user, n=10)
    assert {anime for anime, _ in recommended} == set(range(100, 110)) - rated
    refitted = HybridWeightedCF(user_based_model=fitted_user, item_based_model=fitted_item)
    refitted.fit(ratings)  # fit() still learns the weights
    assert sum(refitted.weights.values()) == pytest.approx(1.0)


def test_an_unfitted_component_without_fit_is_not_fitted() -> None:
    from ml.exceptions import NotFittedError

    hybrid = HybridWeightedCF(user_based_model=UserBasedCF(), item_based_model=ItemBasedCF())
    with pytest.raises(NotFittedError):
        hybrid.predict("u", 1)
