"""The fit's fast paths give the results of the plain computations they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ml.data import RatingsData
from ml.models.biases import fit_biases
from ml.models.knn import dense as dense_kernels
from ml.models.knn.similarity import corated_similarity_top_k
from tests.ml.neighbour_data import centred_rows, ratings_frame, with_first_pair_repeated


@pytest.mark.parametrize("chunk", [1, 300, dense_kernels.CHUNK_ELEMENTS])
@pytest.mark.parametrize("sparse_keep", [0, 10**9])  # always the row sort / the pair sort
@pytest.mark.parametrize("block", [100, dense_kernels.DENSE_BLOCK_ELEMENTS])  # blocks / one block
def test_dense_path_variants_give_the_sparse_paths_bits(
    monkeypatch: pytest.MonkeyPatch, chunk: int, sparse_keep: int, block: int
) -> None:
    x = centred_rows(ratings_frame(n_users=60, n_items=40, seed=5))
    kw = {"k": 7, "min_support": 3, "shrinkage": 10.0}
    expected = corated_similarity_top_k(x, dense=False, **kw)
    monkeypatch.setattr(dense_kernels, "CHUNK_ELEMENTS", chunk)
    monkeypatch.setattr(dense_kernels, "SPARSE_KEEP", sparse_keep)
    monkeypatch.setattr(dense_kernels, "DENSE_BLOCK_ELEMENTS", block)
    got = corated_similarity_top_k(x, dense=True, **kw)
    assert (expected[0] >= 0).sum() > 100
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_csr_reuses_one_layout_and_equals_building_from_the_pairs() -> None:
    data = RatingsData.from_dataframe(ratings_frame().sample(frac=1.0, random_state=1))
    shape = (data.n_users, data.n_items)
    for values in (None, np.arange(data.n_ratings, dtype=np.float32), np.ones(data.n_ratings)):
        got = data.csr(values)
        source = data.rating if values is None else values
        expected = sp.csr_matrix(
            (source.astype(np.float32), (data.user_idx, data.item_idx)), shape=shape
        )
        assert got.dtype == np.float32 and got.has_sorted_indices
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        np.testing.assert_array_equal(got.data, expected.data)
    assert data._csr_layout is not None
    first, second = data.csr(), data.csr()
    first.indices[:] = 0  # each matrix owns its index arrays
    assert second.indices.any()


def test_csr_sums_repeated_pairs() -> None:
    data = RatingsData.from_dataframe(ratings_frame())
    twice = with_first_pair_repeated(data)
    matrix = twice.csr()
    assert matrix.nnz == data.n_ratings
    assert matrix[data.user_idx[0], data.item_idx[0]] == 2 * data.rating[0]
    assert twice._csr_layout is None


def test_repeated_pairs_keep_the_last_and_index_as_the_deduplicated_frame() -> None:
    frame = pd.DataFrame(
        {"user_id": [7, 5, 7, 9, 5], "anime_id": [1, 2, 3, 1, 2], "rating": [4, 6, 8, 2, 9]}
    )
    frame.loc[len(frame)] = [7, 1, 10]  # repeats the first row's pair: this one wins
    data = RatingsData.from_dataframe(frame)
    assert data.users.to_list() == [7, 9, 5]  # order of the deduplicated rows
    assert data.items.to_list() == [3, 1, 2]
    assert data.n_ratings == 4
    dense = data.csr().toarray()
    assert dense[data.users.index_of(7), data.items.index_of(1)] == 10
    assert dense[data.users.index_of(5), data.items.index_of(2)] == 9


def reference_biases(data: RatingsData, reg_u: float = 15.0, reg_i: float = 10.0) -> tuple:
    """The per-epoch bincount ALS (the previous fit_biases)."""
    u, i, r = data.user_idx, data.item_idx, data.rating.astype(np.float64)
    mu = float(r.mean())
    n_u = np.bincount(u, minlength=data.n_users)
    n_i = np.bincount(i, minlength=data.n_items)
    bu, bi = np.zeros(data.n_users), np.zeros(data.n_items)
    for _ in range(10):
        bi = np.bincount(i, weights=r - mu - bu[u], minlength=data.n_items) / (reg_i + n_i)
        bu = np.bincount(u, weights=r - mu - bi[i], minlength=data.n_users) / (reg_u + n_u)
    return mu, bu, bi


def test_fit_biases_equals_the_per_epoch_sums() -> None:
    data = RatingsData.from_dataframe(ratings_frame(n_users=80, n_items=50, seed=2))
    mu, bu, bi = reference_biases(data)
    got = fit_biases(data)
    assert got.mu == mu
    np.testing.assert_allclose(got.bu, bu, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.bi, bi, rtol=0, atol=1e-12)
    assert np.abs(bu).max() > 0.1
