"""ItemBasedCF: adjusted cosine on co-rating users, top-K similar items pre-computed sparsely."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender
from ml.models.knn.batched import cost_blocks, expand_rows, first_k_weighted
from ml.models.knn.lookup import RatingLookup, deviation_lookup, weighted_top_k
from ml.models.knn.similarity import centred, corated_similarity_top_k

STATE_FILE = "item_based.npz"
#: Most (user, item, neighbour) candidates scored at once by _score_users (~60 bytes each).
BATCH_CANDIDATES = 4_000_000
FOLD_IN_REG_U = 15.0


class ItemBasedCF(Recommender):
    """Item-based k-NN.

    sim(i, j) = adjusted cosine: sum_u c_ui c_uj / sqrt(sum_u c_ui^2 sum_u c_uj^2) with
    c_ui = r_ui - mean_u and the sums over users who rated both; 0 below `min_support` such
    users, times n / (n + shrinkage). The `max_neighbours` most similar items (sim > 0) are kept
    per item. r_hat(u, i) = b_ui + sum_j sim(i, j) (r_uj - b_uj) / (sum_j sim(i, j) + damping)
    over the k most similar stored neighbours of i that u rated, b_ui = mu + b_u + b_i (the
    baseline). Defaults chosen on validation carve-outs (never the test set).
    """

    name = "item_based"
    _score_chunk = 32_768

    def __init__(
        self,
        k: int = 20,
        min_support: int = 5,
        shrinkage: float = 100.0,
        max_neighbours: int = 100,
        damping: float = 0.5,
    ) -> None:
        super().__init__()
        self.k = int(k)
        self.min_support = int(min_support)
        self.shrinkage = float(shrinkage)
        self.max_neighbours = int(max_neighbours)
        self.damping = float(damping)
        self._neighbours: np.ndarray | None = None
        self._sims: np.ndarray | None = None
        self._lookup: RatingLookup | None = None
        self._inverse: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "min_support": self.min_support,
            "shrinkage": self.shrinkage,
            "max_neighbours": self.max_neighbours,
            "damping": self.damping,
        }

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self._inverse = None
        ratings = data.csr()
        by_item = centred(ratings, data.user_means()).T.tocsr()
        self._neighbours, self._sims = corated_similarity_top_k(
            by_item, k=self.max_neighbours, min_support=self.min_support, shrinkage=self.shrinkage
        )
        self._lookup = deviation_lookup(data, ratings, self._check_fitted()[2].predict)

    def _inverted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Neighbour lists by neighbour: CSR-like (indptr over j, item i, rank of j in i's
        list, sim(i, j)), built once per fitted state."""
        neighbours, sims, _ = self._state()
        if self._inverse is None:
            item, rank = np.nonzero(neighbours >= 0)
            neighbour = neighbours[item, rank]
            order = np.argsort(neighbour, kind="stable")
            counts = np.bincount(neighbour, minlength=len(self.items))
            indptr = np.concatenate([[0], np.cumsum(counts)])
            self._inverse = (indptr, item[order], rank[order], sims[item, rank][order])
        return self._inverse

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Batched `_score_user`: every rating of the block's users is spread to the items that
        list the rated item as a neighbour, then the k most similar per (user, item) are kept."""
        _, _, lookup = self._state()
        biases = self._check_fitted()[2]
        indptr, inv_item, inv_rank, inv_sim = self._inverted()
        n_items, ratings = len(self.items), lookup.matrix
        out = np.full((len(user_idx), n_items), np.nan)
        known = np.flatnonzero(user_idx >= 0)
        owner, position = expand_rows(ratings.indptr, user_idx[known])
        spread = np.diff(indptr)[ratings.indices[position]]
        costs = np.bincount(owner, weights=spread, minlength=len(known)).astype(np.int64)
        for block in cost_blocks(costs, BATCH_CANDIDATES):
            users = user_idx[known[block]]
            owner, position = expand_rows(ratings.indptr, users)
            devs = (ratings.data[position] - lookup.OFFSET).astype(np.float32).astype(np.float64)
            rating_of, entry = expand_rows(indptr, ratings.indices[position])
            agg = first_k_weighted(
                owner[rating_of] * n_items + inv_item[entry],
                inv_rank[entry],
                inv_sim[entry],
                devs[rating_of],
                len(users) * n_items,
                self.k,
                self.damping,
            ).reshape(len(users), n_items)
            out[known[block]] = biases.for_users(users) + agg
        return out

    def _state(self) -> tuple[np.ndarray, np.ndarray, RatingLookup]:
        if self._neighbours is None or self._sims is None or self._lookup is None:
            raise NotFittedError("ItemBasedCF is not fitted")
        return self._neighbours, self._sims, self._lookup

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        neighbours, sims, lookup = self._state()
        found, devs = lookup.find(user_idx[:, None], neighbours[item_idx])
        agg = weighted_top_k(found, sims[item_idx], devs, self.k, self.damping)
        return self._check_fitted()[2].predict(user_idx, item_idx) + agg

    def _scores_from_deviations(self, rated: np.ndarray, devs: np.ndarray) -> np.ndarray:
        """Deviation term for every item given one user's rated item indices and deviations."""
        neighbours, sims, _ = self._state()
        deviation = np.zeros(len(self.items) + 1, dtype=np.float32)  # last slot: padding (-1)
        deviation[rated] = devs
        is_rated = np.zeros(len(self.items) + 1, dtype=bool)
        is_rated[rated] = True
        return weighted_top_k(
            is_rated[neighbours], sims, deviation[neighbours], self.k, self.damping
        )

    def _score_user(self, user_idx: int) -> np.ndarray:
        if user_idx < 0:
            return np.full(len(self.items), np.nan)
        rated, devs = self._state()[2].row(user_idx)
        agg = self._scores_from_deviations(rated, devs.astype(np.float32))
        return self._check_fitted()[2].for_user(user_idx) + agg

    # ------------------------------------------------------------ fold-in and similar items
    def _fold_in(self, ratings: Mapping[Any, float]) -> tuple[np.ndarray, np.ndarray, float]:
        """(rated item indices, predicted rating of every item, b_u) for an unseen user.

        b_u = sum_j (r_j - mu - b_j) / (reg_u + n), as in the baseline's ALS step.
        """
        _, items, biases = self._check_fitted()
        idx = items.indices_of(list(ratings.keys()))
        values = np.asarray(list(ratings.values()), dtype=np.float64)
        known = idx >= 0
        rated, values = idx[known], values[known]
        resid = values - biases.mu - biases.bi[rated]
        b_u = float(resid.sum() / (FOLD_IN_REG_U + len(rated))) if len(rated) else 0.0
        base = biases.mu + b_u + biases.bi
        agg = self._scores_from_deviations(rated, (values - base[rated]).astype(np.float32))
        scores = np.where(np.isnan(agg), base, base + agg)
        return rated, np.clip(scores, self.rating_min, self.rating_max), b_u

    def recommend_for_ratings(
        self, ratings: Mapping[Any, float], n: int = 10, exclude: Iterable[Any] | None = None
    ) -> list[tuple[Any, float]]:
        """Top-n for a user the model never saw, from their {anime_id: rating} (fold-in)."""
        rated, scores, _ = self._fold_in(ratings)
        return self._top_n(scores, rated, n, exclude)

    def predict_for_ratings(
        self, ratings: Mapping[Any, float], anime_ids: Sequence[Any]
    ) -> np.ndarray:
        """Predicted ratings of anime_ids for a user known only by {anime_id: rating}."""
        _, scores, b_u = self._fold_in(ratings)
        idx = self.items.indices_of(list(anime_ids))
        mu = self._check_fitted()[2].mu
        unknown = np.clip(mu + b_u, self.rating_min, self.rating_max)
        return np.where(idx >= 0, scores[np.maximum(idx, 0)], unknown)

    def neighbours(self, anime_id: Any, k: int = 10) -> list[tuple[Any, float]]:
        """The k most similar anime (stored neighbours, sim > 0), most similar first."""
        neighbours, sims, _ = self._state()
        i = self.items.index_of(anime_id)
        if i < 0:
            return []
        valid = neighbours[i] >= 0
        cand, cand_sims = neighbours[i][valid][:k], sims[i][valid][:k]
        return list(zip(self.items.raws_of(cand), cand_sims.astype(float).tolist(), strict=True))

    def _save_state(self, path: Path) -> None:
        neighbours, sims, lookup = self._state()
        np.savez(
            path / STATE_FILE,
            neighbours=neighbours,
            sims=sims,
            **lookup.saved_arrays(),
        )

    def _load_state(self, path: Path) -> None:
        with np.load(path / STATE_FILE, allow_pickle=False) as state:
            self._neighbours, self._sims = state["neighbours"], state["sims"]
            self._inverse = None
            shape = (len(self._check_fitted()[0]), len(self.items))
            self._lookup = RatingLookup.from_saved(state, shape)
