"""Ranking: every model beats popularity on planted tastes, one ranking path for one user and
for a batch, and a folded-in user's list follows their current ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models import (
    EASE,
    HybridWeightedCF,
    ItemBasedCF,
    NeuralCF,
    PopularityRecommender,
    Recommender,
    UserBasedCF,
)
from ml.models.ranking import like_factor, stage_one, stage_two
from ml.splits import per_user_split
from ml.training.evaluate import EvaluationConfig, ranking_metrics
from ml.training.top_n import rank_everyone
from tests.ml.rating_data import GROUP_ITEMS, planted_tastes

SERVED = ("user_based", "item_based", "ncf", "hybrid")


def make(name: str) -> Recommender:
    """Each served model (and EASE) with settings small enough for the fixture."""
    if name == "user_based":
        return UserBasedCF(min_support=2, rank_neighbours=10, rank_neighbours_grid=[10])
    if name == "item_based":
        return ItemBasedCF(min_support=2, rank_neighbours=10, rank_neighbours_grid=[10])
    if name == "ncf":
        return NeuralCF(
            embedding_dim=8,
            hidden_layers=[16, 8],
            batch_size=32,
            epochs=10,
            rank_dim=8,
            rank_batch_size=64,
            rank_epochs=30,
            validation_fraction=0.0,
        )
    if name == "ease":
        return EASE()
    return HybridWeightedCF(
        user_based_model=make("user_based"),
        item_based_model=make("item_based"),
        ncf_model=make("ncf"),
        ease_model=make("ease"),
    )


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    return per_user_split(planted_tastes(), 0.2, 42)


@pytest.fixture(scope="module")
def fitted(split: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, Recommender]:
    train, _ = split
    models = {name: make(name).fit(train) for name in (*SERVED, "ease")}
    models["popularity"] = PopularityRecommender().fit(train)
    return models


@pytest.mark.parametrize("name", [*SERVED, "ease"])
def test_every_model_ranks_better_than_popularity(
    fitted: dict[str, Recommender], split: tuple[pd.DataFrame, pd.DataFrame], name: str
) -> None:
    _, test = split
    config = EvaluationConfig(max_users=None)
    popularity = ranking_metrics(fitted["popularity"], test, config)["ndcg_at_k"]
    model = ranking_metrics(fitted[name], test, config)["ndcg_at_k"]
    assert model > 2 * popularity, (name, model, popularity)


@pytest.mark.parametrize("name", [*SERVED, "ease", "popularity"])
def test_one_ranking_path_for_one_user_and_for_batches(
    fitted: dict[str, Recommender], name: str
) -> None:
    """recommend(user) is the batched list, tie for tie (the precomputed lists' path)."""
    model = fitted[name]
    users = model.users.to_list()
    lists = rank_everyone(model, users, 15, batch_size=7)
    for row, user in enumerate(users):
        expected = model.recommend(user, n=15)
        found = lists.items[row] >= 0
        assert lists.items[row][found].tolist() == [anime for anime, _ in expected]
        np.testing.assert_array_equal(
            lists.ratings[row][found], np.float32([rating for _, rating in expected])
        )


def test_popularity_ranks_most_rated_first_in_every_path(fitted: dict[str, Recommender]) -> None:
    model = fitted["popularity"]
    counts = model._state()[0]
    user = model.users.raw_of(0)
    unseen = np.setdiff1d(np.arange(len(model.items)), model.seen_indices(user))
    expected = unseen[np.lexsort((unseen, -counts[unseen]))][:10]
    assert [a for a, _ in model.recommend(user, n=10)] == model.items.raws_of(expected)
    folded = model.recommend_for_ratings({}, n=10, watched=model.items.raws_of(unseen[:0]))
    assert folded[0][0] == model.items.raw_of(int(np.argmax(counts)))


@pytest.mark.parametrize("name", [*SERVED, "ease"])
def test_a_new_rating_changes_the_next_list(fitted: dict[str, Recommender], name: str) -> None:
    """A group-0 user who deletes their ratings and rates group-1 anime highly gets group-1
    anime at once (computed from the current ratings, not the old list minus what was rated)."""
    model = fitted[name]
    user = model.users.raw_of(0)
    seen = [a for a in model.items.raws_of(model.seen_indices(user)) if a in GROUP_ITEMS[0]]
    before = model.recommend_for_ratings({anime: 9.0 for anime in seen}, n=5, user_id=user)
    now = {anime: 10.0 for anime in GROUP_ITEMS[1][:6]}
    after = model.recommend_for_ratings(now, n=5, user_id=user)
    group_1 = set(GROUP_ITEMS[1])
    assert sum(a in group_1 for a, _ in after) > sum(a in group_1 for a, _ in before)
    assert not set(now) & {anime for anime, _ in after}


def test_stages_rank_by_interaction_times_like_factor() -> None:
    interaction = np.array([[4.0, 3.0, 2.0, 0.0, 1.0]])
    seen = np.zeros((1, 5))
    seen[0, 2] = 1
    import scipy.sparse as sp

    candidates, stage = stage_one(interaction, sp.csr_matrix(seen), np.zeros(5), 3)
    assert candidates.tolist() == [[0, 1, 4]]
    np.testing.assert_allclose(stage, [[1.0, 0.75, 0.25]])
    ratings = np.array([[3.0, 9.0, 9.0]])
    like = like_factor(ratings, 1.0, 10.0, 0.05)
    items, chosen = stage_two(candidates, stage, ratings, 2, like)
    assert items.tolist() == [[1, 4]] and chosen.tolist() == [[9.0, 9.0]]
    items, _ = stage_two(candidates, stage, ratings, 2, like_factor(ratings, 1.0, 10.0, None))
    assert items.tolist() == [[0, 1]]
