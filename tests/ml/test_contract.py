"""The Recommender contract, run against every model class (RecommenderContract mixin)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from ml.exceptions import DataError, NotFittedError, UnknownModelError
from ml.models import (
    EASE,
    MODEL_CLASSES,
    BaselinePredictor,
    HybridWeightedCF,
    ItemBasedCF,
    NeuralCF,
    PopularityRecommender,
    Recommender,
    UserBasedCF,
)
from tests.ml.rating_data import two_taste_groups

ALLOWED_SUFFIXES = {".json", ".npz", ".npy", ".pt"}


class RecommenderContract:
    """Mixin: subclasses set `make_model` (a fresh, unfitted model with small settings)."""

    n_recommend: ClassVar[int] = 3

    def make_model(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture
    def ratings(self) -> pd.DataFrame:
        return two_taste_groups()

    @pytest.fixture
    def fitted(self, ratings: pd.DataFrame) -> Recommender:
        model = self.make_model()
        assert model.fit(ratings) is model
        return model

    def test_is_registered(self) -> None:
        model = self.make_model()
        assert MODEL_CLASSES[model.name] is type(model)

    def test_unfitted_model_raises(self) -> None:
        with pytest.raises(NotFittedError):
            self.make_model().predict("u", 1)

    def test_predictions_are_floats_on_the_scale(
        self, fitted: Recommender, ratings: pd.DataFrame
    ) -> None:
        users = ratings["user_id"].unique()
        items = ratings["anime_id"].unique()
        grid_u, grid_i = np.meshgrid(users, items)
        preds = fitted.predict_many(grid_u.ravel(), grid_i.ravel())
        assert preds.shape == (grid_u.size,)
        assert np.isfinite(preds).all()
        assert preds.min() >= 1.0 and preds.max() <= 10.0
        one = fitted.predict(users[0], items[0])
        assert isinstance(one, float)
        assert one == pytest.approx(preds[0])

    @pytest.mark.parametrize(
        ("user", "item"),
        [("nobody", 100), ("64b7f0c2a1e4d3f5a6b7c000", 99999), ("nobody", 99999), (None, None)],
    )
    def test_unknown_ids_answer_without_error(
        self, fitted: Recommender, user: object, item: object
    ) -> None:
        value = fitted.predict(user, item)
        assert 1.0 <= value <= 10.0

    def test_mask_tells_whether_the_model_or_the_baseline_answered(
        self, fitted: Recommender, ratings: pd.DataFrame
    ) -> None:
        """True where the model itself answered; False where the baseline fallback did."""
        users = [*ratings["user_id"].unique(), "nobody"]
        items = [*ratings["anime_id"].unique(), 99999]
        pair_users = [user for user in users for _ in items]
        pair_items = [item for _ in users for item in items]
        preds, answered = fitted.predict_many(pair_users, pair_items, with_mask=True)
        assert answered.dtype == bool and answered.shape == preds.shape

        vocab_users, vocab_items, biases = fitted._check_fitted()
        u, i = vocab_users.indices_of(pair_users), vocab_items.indices_of(pair_items)
        fallback = np.clip(biases.predict(u, i), fitted.rating_min, fitted.rating_max)
        np.testing.assert_allclose(preds[~answered], fallback[~answered])
        known = (u >= 0) & (i >= 0)
        if not fitted.predicts_ratings:  # a ranking-only model: every rating is the baseline's
            assert not answered.any()
            return
        assert answered[known].any()  # the model answers pairs it was trained on
        if not fitted.answers_unknown:  # an unknown user or anime is the baseline's
            assert not answered[~known].any()
        if fitted.name != "baseline":  # the baseline's own answer is the fallback
            assert not np.allclose(preds[answered], fallback[answered])

    def test_recommend_excludes_rated_and_returns_n(
        self, fitted: Recommender, ratings: pd.DataFrame
    ) -> None:
        user = "64b7f0c2a1e4d3f5a6b7c000"
        rated = set(ratings.loc[ratings["user_id"] == user, "anime_id"])
        recs = fitted.recommend(user, n=self.n_recommend)
        assert len(recs) == min(self.n_recommend, 10 - len(rated))
        assert not rated & {anime for anime, _ in recs}
        assert all(1.0 <= score <= 10.0 for _, score in recs)
        assert all(isinstance(anime, int) for anime, _ in recs)

    def test_recommend_is_the_ranking_path_and_honours_exclude(self, fitted: Recommender) -> None:
        user = "64b7f0c2a1e4d3f5a6b7c001"
        recs = fitted.recommend(user, n=100)
        assert len(recs) == 10 - len(fitted.seen_indices(user))
        items, ratings = fitted.rank_users(fitted.users.indices_of([user]), 100)
        found = items[0] >= 0
        assert [a for a, _ in recs] == fitted.items.raws_of(items[0][found])
        assert [r for _, r in recs] == ratings[0][found].tolist()
        excluded = {recs[0][0]}
        again = fitted.recommend(user, n=100, exclude=excluded)
        assert excluded.isdisjoint(anime for anime, _ in again)
        assert len(again) == len(recs) - 1

    def test_watched_rows_are_interactions_never_recommended(self, ratings: pd.DataFrame) -> None:
        user = "64b7f0c2a1e4d3f5a6b7c000"
        rated = set(ratings.loc[ratings["user_id"] == user, "anime_id"])
        unrated = sorted(set(ratings["anime_id"]) - rated)
        watched = pd.DataFrame({"user_id": [user], "anime_id": [unrated[0]], "rating": [-1]})
        model = self.make_model().fit(pd.concat([ratings, watched], ignore_index=True))
        assert unrated[0] in model.items.raws_of(model.seen_indices(user))
        recs = {anime for anime, _ in model.recommend(user, n=100)}
        assert recs == set(unrated[1:])

    def test_fold_in_leaves_out_rated_watched_and_excluded(self, fitted: Recommender) -> None:
        recs = fitted.recommend_for_ratings({100: 9, 102: 8}, n=100, exclude=[104], watched=[106])
        assert {anime for anime, _ in recs} == {101, 103, 105, 107, 108, 109}
        assert all(1.0 <= rating <= 10.0 for _, rating in recs)
        predicted = fitted.predict_for_ratings({100: 9, 102: 8}, [101, 99999])
        assert predicted.shape == (2,) and np.all((predicted >= 1.0) & (predicted <= 10.0))

    def test_recommend_for_unknown_user(self, fitted: Recommender) -> None:
        recs = fitted.recommend("nobody", n=4)
        assert len(recs) == 4
        assert len(fitted.score_all("nobody")) == len(fitted.items)

    def test_save_load_round_trip(
        self, fitted: Recommender, ratings: pd.DataFrame, tmp_path: Path
    ) -> None:
        fitted.save(tmp_path / "model")
        assert {p.suffix for p in (tmp_path / "model").rglob("*") if p.is_file()} <= (
            ALLOWED_SUFFIXES
        )
        loaded = Recommender.load(tmp_path / "model")
        assert type(loaded) is type(fitted)
        assert loaded.get_params() == fitted.get_params()
        users = list(ratings["user_id"]) + ["nobody"]
        items = list(ratings["anime_id"]) + [99999]
        np.testing.assert_array_equal(
            loaded.predict_many(users, items), fitted.predict_many(users, items)
        )
        user = "64b7f0c2a1e4d3f5a6b7c003"
        assert loaded.recommend(user, n=5) == fitted.recommend(user, n=5)
        assert type(fitted).load(tmp_path / "model").predict(user, 100) == fitted.predict(user, 100)

    def test_same_data_same_results(self, ratings: pd.DataFrame) -> None:
        first, second = self.make_model().fit(ratings), self.make_model().fit(ratings)
        users, items = ratings["user_id"].to_numpy(), ratings["anime_id"].to_numpy()
        np.testing.assert_array_equal(
            first.predict_many(users, items), second.predict_many(users, items)
        )

    def test_integer_user_ids(self, ratings: pd.DataFrame) -> None:
        codes = pd.factorize(ratings["user_id"])[0] + 1
        model = self.make_model().fit(ratings.assign(user_id=codes))
        assert model.knows_user(1) and not model.knows_user("1")
        assert 1.0 <= model.predict(1, 100) <= 10.0


class TestBaselineContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return BaselinePredictor()


class TestPopularityContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return PopularityRecommender()


class TestUserBasedContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return UserBasedCF(k=3, min_support=2)


class TestItemBasedContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return ItemBasedCF(k=3, min_support=2)


class TestHybridContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return HybridWeightedCF(
            user_based_model=UserBasedCF(k=3, min_support=2),
            item_based_model=ItemBasedCF(k=3, min_support=2),
            validation_fraction=0.2,
        )


class TestEASEContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return EASE()


class TestNeuralCFContract(RecommenderContract):
    def make_model(self) -> Recommender:
        return NeuralCF(embedding_dim=4, hidden_layers=[8, 4], epochs=2, batch_size=16)


def test_load_checks_the_saved_class(tmp_path: Path) -> None:
    BaselinePredictor().fit(two_taste_groups()).save(tmp_path)
    with pytest.raises(UnknownModelError):
        ItemBasedCF.load(tmp_path)
    meta = (tmp_path / "meta.json").read_text().replace('"baseline"', '"no_such_model"')
    (tmp_path / "meta.json").write_text(meta)
    with pytest.raises(UnknownModelError):
        Recommender.load(tmp_path)


def test_bad_ratings_raise_data_error() -> None:
    with pytest.raises(DataError):
        BaselinePredictor().fit(pd.DataFrame({"user_id": [1], "rating": [5]}))
    with pytest.raises(DataError):
        BaselinePredictor().fit(pd.DataFrame(columns=["user_id", "anime_id", "rating"]))
