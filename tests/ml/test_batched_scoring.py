"""Batched scoring (score_users, rank_everyone) against the per-pair path, for every model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ml.models import (
    BaselinePredictor,
    HybridWeightedCF,
    ItemBasedCF,
    NeuralCF,
    PopularityRecommender,
    Recommender,
    UserBasedCF,
)
from ml.models.knn.batched import first_k_weighted
from ml.models.knn.lookup import weighted_top_k
from ml.models.ranking import top_k_rows
from ml.training.top_n import rank_everyone

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "rating.csv"
TOLERANCE = 1e-5
UNKNOWN = "not-a-user"


def sample_ratings(max_user: int = 160) -> pd.DataFrame:
    """The explicit ratings of the bundled sample's first users (real data, ~10k rows)."""
    frame = pd.read_csv(SAMPLE)
    frame = frame[(frame["rating"] > 0) & (frame["user_id"] <= max_user)]
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    return sample_ratings()


@pytest.fixture(scope="module")
def models(ratings: pd.DataFrame) -> dict[str, Recommender]:
    user_based = UserBasedCF(k=5, min_support=2, max_neighbours=30).fit(ratings)
    item_based = ItemBasedCF(k=5, min_support=2, max_neighbours=30).fit(ratings)
    ncf = NeuralCF(embedding_dim=8, hidden_layers=[16, 8], epochs=2, batch_size=256)
    ncf.fit(ratings)
    hybrid = HybridWeightedCF(
        user_based_model=user_based, item_based_model=item_based, ncf_model=ncf, refit=False
    ).fit(ratings)
    return {
        "baseline": BaselinePredictor().fit(ratings),
        "popularity": PopularityRecommender().fit(ratings),
        "user_based": user_based,
        "user_based_mean": UserBasedCF(k=5, min_support=2, centring="mean").fit(ratings),
        "item_based": item_based,
        "ncf": ncf,
        "hybrid": hybrid,
    }


MODEL_NAMES = [
    "baseline",
    "popularity",
    "user_based",
    "user_based_mean",
    "item_based",
    "ncf",
    "hybrid",
]


def pairwise(model: Recommender, users: Any) -> np.ndarray:
    """Every item's rating for each user by ``predict_many`` (the per-pair kernels)."""
    items = model.items.raw
    users = np.asarray(list(users), dtype=object)
    pairs = model.predict_many(np.repeat(users, len(items)), np.tile(items, len(users)))
    return pairs.reshape(len(users), len(items))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_score_users_equals_the_pairwise_predictions(
    models: dict[str, Recommender], name: str
) -> None:
    model = models[name]
    assert model.users is not None
    user_idx = np.concatenate([[-1], np.arange(len(model.users)), [-1]])
    raw = [UNKNOWN, *model.users.raw.tolist(), UNKNOWN]
    expected = pairwise(model, raw)
    batched = model.score_users(user_idx)
    assert batched.shape == expected.shape
    np.testing.assert_allclose(batched, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_ratings_at_candidates_equal_the_pairwise_predictions(
    models: dict[str, Recommender], name: str
) -> None:
    model = models[name]
    assert model.users is not None
    user_idx = np.concatenate([[-1], np.arange(len(model.users))])
    raw = [UNKNOWN, *model.users.raw.tolist()]
    expected = pairwise(model, raw)
    candidates = np.random.default_rng(0).integers(0, len(model.items), (len(user_idx), 12))
    candidates[::3, -4:] = -1  # padding
    found = model._filled_ratings_at(user_idx, candidates)
    wanted = np.where(candidates >= 0, expected[np.arange(len(raw))[:, None], candidates], np.nan)
    np.testing.assert_allclose(found, wanted, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_rank_everyone_leaves_out_blocked_items_like_recommend_exclude(
    models: dict[str, Recommender], name: str
) -> None:
    model = models[name]
    assert model.users is not None
    users = model.users.to_list()[:40]
    blocked = sp.random(len(users), len(model.items), density=0.05, format="csr", random_state=1)
    blocked.data[:] = 1.0
    lists = rank_everyone(model, users, 30, blocked, batch_size=7)
    for row, user in enumerate(users):
        excluded = model.items.raws_of(blocked[row].indices)
        expected = model.recommend(user, n=30, exclude=excluded)
        found = lists.items[row] >= 0
        assert lists.items[row][found].tolist() == [anime for anime, _ in expected]
        assert not set(excluded) & set(lists.items[row].tolist())


def test_rank_everyone_pads_when_the_catalogue_runs_out(models: dict[str, Recommender]) -> None:
    model = models["item_based"]
    assert model.users is not None
    user = model.users.raw_of(0)
    lists = rank_everyone(model, [user], len(model.items))
    n_unseen = len(model.items) - len(model.seen_indices(user))
    assert (lists.items[0] >= 0).sum() == n_unseen
    assert (lists.items[0][n_unseen:] == -1).all() and np.isnan(lists.ratings[0][n_unseen:]).all()


def test_top_k_rows_breaks_ties_by_lower_index_and_pads() -> None:
    scores = np.array(
        [
            [1.0, 3.0, 3.0, 2.0, 3.0, 0.5],
            [-np.inf, 4.0, -np.inf, -np.inf, -np.inf, 1.0],
        ]
    )
    cols, values = top_k_rows(scores, 3)
    assert cols.tolist() == [[1, 2, 4], [1, 5, -1]]
    assert values[0].tolist() == [3.0, 3.0, 3.0]
    assert values[1, :2].tolist() == [4.0, 1.0] and np.isnan(values[1, 2])
    cols, _ = top_k_rows(scores[:1], 2)
    assert cols.tolist() == [[1, 2]]


def test_first_k_weighted_equals_the_dense_kernel() -> None:
    rng = np.random.default_rng(0)
    found = rng.random((50, 12)) < 0.5
    found[::7] = False  # rows with no candidate: no answer
    sims = np.sort(rng.random((50, 12)), axis=1)[:, ::-1]
    devs = rng.normal(size=(50, 12))
    expected = weighted_top_k(found, sims, devs, 3, 0.5)
    keys, ranks = np.nonzero(found)
    shuffle = rng.permutation(len(keys))
    keys, ranks = keys[shuffle], ranks[shuffle]
    got = first_k_weighted(keys, ranks, sims[keys, ranks], devs[keys, ranks], 50, 3, 0.5)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, equal_nan=True)
    assert np.isnan(expected).any() and not np.isnan(expected).all()


def test_item_based_batched_scores_follow_a_refit(ratings: pd.DataFrame) -> None:
    model = ItemBasedCF(k=5, min_support=2).fit(ratings.iloc[: len(ratings) // 2])
    model.score_users(np.arange(3))
    model.fit(ratings)
    assert model.users is not None
    expected = pairwise(model, model.users.raw[:20])
    np.testing.assert_allclose(model.score_users(np.arange(20)), expected, atol=TOLERANCE)


def test_ncf_falls_back_to_the_forward_pass_when_the_net_changes(
    models: dict[str, Recommender], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = models["ncf"]
    assert isinstance(model, NeuralCF) and model.net is not None
    original = type(model.net).forward
    monkeypatch.setattr(
        type(model.net), "forward", lambda net, users, items: original(net, users, items) * 0.9
    )
    assert model.users is not None
    expected = pairwise(model, model.users.raw[:10])
    np.testing.assert_allclose(model.score_users(np.arange(10)), expected, atol=TOLERANCE)


def test_hybrid_batched_blend_with_components_that_know_other_ids(ratings: pd.DataFrame) -> None:
    users = ratings["user_id"].unique()
    items = ratings["anime_id"].unique()
    first = ratings[ratings["user_id"].isin(users[: len(users) // 2])]
    second = ratings[~ratings["anime_id"].isin(items[::4])]
    hybrid = HybridWeightedCF(
        user_based_model=UserBasedCF(k=5, min_support=2).fit(first),
        item_based_model=ItemBasedCF(k=5, min_support=2).fit(second),
        refit=False,
    ).fit(ratings)
    assert hybrid.users is not None
    expected = pairwise(hybrid, hybrid.users.raw)
    batched = hybrid.score_users(np.arange(len(hybrid.users)))
    np.testing.assert_allclose(batched, expected, rtol=0, atol=TOLERANCE)
