"""UserBasedCF: Pearson similarity on co-rated items, sparse top-K neighbour lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender
from ml.models.knn.batched import cost_blocks, expand_rows, first_k_weighted
from ml.models.knn.lookup import RatingLookup, deviation_lookup, weighted_top_k
from ml.models.knn.similarity import centred, corated_similarity_top_k

STATE_FILE = "user_based.npz"
Centring = Literal["mean", "baseline"]
#: Most (user, neighbour, item) candidates scored at once by _score_users (~60 bytes each).
BATCH_CANDIDATES = 4_000_000


class UserBasedCF(Recommender):
    """User-based k-NN.

    sim(u, v) = Pearson over the items both rated, ratings centred by each user's mean
    (c_ui = r_ui - mean_u), 0 below `min_support` co-rated items, times n / (n + shrinkage).
    Only the `max_neighbours` most similar users with sim > 0 are kept per user (sparse).
    r_hat(u, i) = base(u, i) + sum_v sim(u, v) (r_vi - base(v, i)) / (sum_v sim(u, v) + damping)
    over the k most similar of those neighbours who rated i; base is the user mean
    (centring="mean", Surprise's KNNWithMeans) or the baseline mu + b_u + b_i
    (centring="baseline"). No neighbour who rated i -> the baseline's answer. Defaults were
    chosen on a validation carve-out of the anime sample and MovieLens 100K training sets.
    """

    name = "user_based"
    _score_chunk = 32_768

    def __init__(
        self,
        k: int = 20,
        min_support: int = 5,
        shrinkage: float = 25.0,
        max_neighbours: int = 400,
        damping: float = 1.0,
        centring: Centring = "baseline",
    ) -> None:
        super().__init__()
        if centring not in ("mean", "baseline"):
            raise ValueError("centring must be 'mean' or 'baseline'")
        self.k = int(k)
        self.min_support = int(min_support)
        self.shrinkage = float(shrinkage)
        self.max_neighbours = int(max_neighbours)
        self.damping = float(damping)
        self.centring: Centring = centring
        self._neighbours: np.ndarray | None = None
        self._sims: np.ndarray | None = None
        self._means: np.ndarray | None = None
        self._lookup: RatingLookup | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "min_support": self.min_support,
            "shrinkage": self.shrinkage,
            "max_neighbours": self.max_neighbours,
            "damping": self.damping,
            "centring": self.centring,
        }

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self._means = data.user_means()
        ratings = data.csr()
        self._neighbours, self._sims = corated_similarity_top_k(
            centred(ratings, self._means),
            k=self.max_neighbours,
            min_support=self.min_support,
            shrinkage=self.shrinkage,
        )
        self._lookup = deviation_lookup(data, ratings, self._base)

    def _state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, RatingLookup]:
        if self._neighbours is None or self._sims is None or self._means is None:
            raise NotFittedError("UserBasedCF is not fitted")
        assert self._lookup is not None
        return self._neighbours, self._sims, self._means, self._lookup

    def _base(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        if self.centring == "baseline":
            return self._check_fitted()[2].predict(user_idx, item_idx)
        if self._means is None:
            raise NotFittedError("UserBasedCF is not fitted")
        return self._means[user_idx]

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        neighbours, sims, _, lookup = self._state()
        cand = neighbours[user_idx]
        found, devs = lookup.find(cand, item_idx[:, None])
        return self._base(user_idx, item_idx) + weighted_top_k(
            found, sims[user_idx], devs, self.k, self.damping
        )

    def _score_user(self, user_idx: int) -> np.ndarray:
        n_items = len(self.items)
        if user_idx < 0:
            return np.full(n_items, np.nan)
        neighbours, sims, _, lookup = self._state()
        valid = neighbours[user_idx] >= 0
        cand, cand_sims = neighbours[user_idx][valid], sims[user_idx][valid]
        found, devs = lookup.dense_rows(cand)
        base = self._base(np.full(n_items, user_idx), np.arange(n_items))
        return base + weighted_top_k(found.T, cand_sims[None, :], devs.T, self.k, self.damping)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Batched `_score_user`: the ratings of every stored neighbour of the block's users,
        the k most similar neighbours who rated each item kept per (user, item)."""
        neighbours, sims, _, lookup = self._state()
        n_items, ratings = len(self.items), lookup.matrix
        out = np.full((len(user_idx), n_items), np.nan)
        known = np.flatnonzero(user_idx >= 0)
        lists = neighbours[user_idx[known]]
        row_lengths = np.diff(ratings.indptr)
        costs = np.where(lists >= 0, row_lengths[np.maximum(lists, 0)], 0).sum(axis=1)
        for block in cost_blocks(costs, BATCH_CANDIDATES):
            users = user_idx[known[block]]
            rank, local = np.nonzero((neighbours[users] >= 0).T)  # rank-major order
            pair, position = expand_rows(ratings.indptr, neighbours[users[local], rank])
            agg = first_k_weighted(
                local[pair] * n_items + ratings.indices[position],
                rank[pair],
                sims[users[local], rank][pair],
                ratings.data[position] - lookup.OFFSET,
                len(users) * n_items,
                self.k,
                self.damping,
            ).reshape(len(users), n_items)
            items = np.arange(n_items)
            base = self._base(np.repeat(users, n_items), np.tile(items, len(users)))
            out[known[block]] = base.reshape(len(users), n_items) + agg
        return out

    def neighbours_of(self, user_id: Any) -> list[tuple[Any, float]]:
        """The stored neighbours of a user, most similar first."""
        users = self._check_fitted()[0]
        neighbours, sims, _, _ = self._state()
        u = users.index_of(user_id)
        if u < 0:
            return []
        valid = neighbours[u] >= 0
        return list(zip(users.raws_of(neighbours[u][valid]), sims[u][valid].tolist(), strict=True))

    def _save_state(self, path: Path) -> None:
        neighbours, sims, means, lookup = self._state()
        np.savez(
            path / STATE_FILE,
            neighbours=neighbours,
            sims=sims,
            means=means,
            **lookup.saved_arrays(),
        )

    def _load_state(self, path: Path) -> None:
        with np.load(path / STATE_FILE, allow_pickle=False) as state:
            self._neighbours, self._sims = state["neighbours"], state["sims"]
            self._means = state["means"]
            shape = (len(self._check_fitted()[0]), len(self.items))
            self._lookup = RatingLookup.from_saved(state, shape)
