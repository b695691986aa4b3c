"""Neighbour kernels: the dense-block and sparse paths give the same bits, and match brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from ml.data import RatingsData
from ml.models import ItemBasedCF, UserBasedCF
from ml.models.knn import dense as dense_kernels
from ml.models.knn import similarity as kernels
from ml.models.knn.lookup import RatingLookup, deviation_lookup
from ml.models.knn.similarity import corated_similarity_top_k
from tests.ml.neighbour_data import centred_rows, ratings_frame, with_first_pair_repeated


def brute_force(x: sp.csr_matrix, min_support: int, shrinkage: float) -> np.ndarray:
    """sim(a, b) by loops over the co-rated columns (float64), 0 where not a neighbour."""
    n = x.shape[0]
    rows = [dict(zip(x[a].indices.tolist(), x[a].data.tolist(), strict=True)) for a in range(n)]
    out = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            common = [c for c in rows[a] if c in rows[b]]
            if a == b or len(common) < max(min_support, 1):
                continue
            num = sum(rows[a][c] * rows[b][c] for c in common)
            den = math.sqrt(
                sum(rows[a][c] ** 2 for c in common) * sum(rows[b][c] ** 2 for c in common)
            )
            sim = num / max(den, 1e-6) * len(common) / (len(common) + shrinkage)
            out[a, b] = max(sim, 0.0)
    return out


@pytest.mark.parametrize(
    ("min_support", "shrinkage", "k"), [(1, 0.0, 50), (3, 10.0, 5), (6, 25.0, 8)]
)
def test_dense_and_sparse_paths_give_the_same_bits(
    monkeypatch: pytest.MonkeyPatch, min_support: int, shrinkage: float, k: int
) -> None:
    x = centred_rows(ratings_frame())
    kw = {"k": k, "min_support": min_support, "shrinkage": shrinkage}
    sparse = corated_similarity_top_k(x, dense=False, **kw)
    sparse_blocks = corated_similarity_top_k(x, dense=False, block_elements=100, **kw)
    dense = corated_similarity_top_k(x, dense=True, **kw)
    monkeypatch.setattr(dense_kernels, "DENSE_BLOCK_ELEMENTS", 100)  # several dense blocks
    dense_blocks = corated_similarity_top_k(x, dense=True, **kw)
    assert (sparse[0] >= 0).sum() > 0
    for other in (sparse_blocks, dense, dense_blocks):
        np.testing.assert_array_equal(other[0], sparse[0])
        np.testing.assert_array_equal(other[1], sparse[1])


@pytest.mark.parametrize("dense", [True, False])
def test_top_k_matches_brute_force(dense: bool) -> None:
    x = centred_rows(ratings_frame())
    neighbours, sims = corated_similarity_top_k(x, k=6, min_support=3, shrinkage=5.0, dense=dense)
    expected = brute_force(x, 3, 5.0)
    for a in range(x.shape[0]):
        order = sorted(np.flatnonzero(expected[a] > 0), key=lambda b: (-expected[a, b], b))[:6]
        got = neighbours[a][neighbours[a] >= 0]
        np.testing.assert_allclose(sims[a][: len(got)], expected[a, got], rtol=1e-5)
        np.testing.assert_allclose(
            np.sort(expected[a, got]), np.sort(expected[a, order]), rtol=1e-5
        )
    assert (neighbours[3] == -1).all() and not (neighbours == 3).any()  # 3 ratings < min_support
    n_rated = x[0].nnz  # users 1 and 2 are copies of user 0: sim 1, shrunk by n / (n + 5)
    assert sims[0, 0] == sims[1, 0] == pytest.approx(n_rated / (n_rated + 5.0), rel=1e-5)


def test_ties_are_broken_by_ascending_index() -> None:
    x = centred_rows(ratings_frame())
    for dense in (True, False):
        neighbours, sims = corated_similarity_top_k(
            x, k=5, min_support=5, shrinkage=2.0, dense=dense
        )
        for row, first, second in ((0, 1, 2), (1, 0, 2), (2, 0, 1)):  # users 0, 1, 2 are copies
            assert neighbours[row, :2].tolist() == [first, second]
            assert sims[row, 0] == sims[row, 1]


def test_the_path_is_chosen_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    x = centred_rows(ratings_frame()).astype(np.float32)
    assert kernels._prefers_dense(x)
    monkeypatch.setattr(kernels, "DENSE_FACTOR_ELEMENTS", x.shape[0] * x.shape[1] - 1)
    assert not kernels._prefers_dense(x)


@pytest.mark.parametrize("model_class", [UserBasedCF, ItemBasedCF])
def test_models_predict_the_same_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, model_class: type[UserBasedCF] | type[ItemBasedCF]
) -> None:
    train = ratings_frame(seed=8)
    fitted = {}
    for dense in (True, False):
        monkeypatch.setattr(kernels, "_prefers_dense", lambda _x, d=dense: d)
        fitted[dense] = model_class(k=5, min_support=2).fit(train)
    users, items = np.meshgrid(np.arange(41), np.arange(31))
    predictions = [m.predict_many(users.ravel(), items.ravel()) for m in fitted.values()]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(fitted[True]._neighbours, fitted[False]._neighbours)


def test_deviation_lookup_equals_building_from_pairs() -> None:
    data = RatingsData.from_dataframe(ratings_frame())
    base = lambda u, i: 0.5 * u - 0.25 * i  # noqa: E731
    got = deviation_lookup(data, data.csr(), base).matrix
    devs = data.rating - base(data.user_idx, data.item_idx)
    expected = RatingLookup.build(data.user_idx, data.item_idx, devs, got.shape).matrix
    np.testing.assert_array_equal(got.toarray(), expected.toarray())


def test_deviation_lookup_with_repeated_pairs_builds_from_the_pairs() -> None:
    """A RatingsData made by hand may repeat a pair (from_dataframe never does): the lookup is
    then built from the pairs, as before, not from the summed ratings matrix."""
    data = RatingsData.from_dataframe(ratings_frame())
    twice = with_first_pair_repeated(data)
    base = lambda u, i: np.full(len(u), 1.0)  # noqa: E731
    got = deviation_lookup(twice, twice.csr(), base).matrix
    devs = twice.rating - 1.0
    expected = RatingLookup.build(twice.user_idx, twice.item_idx, devs, got.shape).matrix
    np.testing.assert_array_equal(got.toarray(), expected.toarray())
