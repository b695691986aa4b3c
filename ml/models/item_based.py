"""ItemBasedCF: adjusted cosine for ratings, cosine on interactions for ranking; sparse top-K."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender
from ml.models.knn.batched import candidate_mask, cost_blocks, expand_rows, first_k_weighted
from ml.models.knn.cosine import cosine_top_k_from_counts, item_cooccurrence
from ml.models.knn.lookup import RatingLookup, deviation_lookup, weighted_top_k
from ml.models.knn.similarity import centred, corated_similarity_top_k
from ml.models.ranking import LIKE_GRID, ValidationTargets

STATE_FILE = "item_based.npz"
#: Most (user, item, neighbour) candidates scored at once by _score_users (~60 bytes each).
BATCH_CANDIDATES = 4_000_000


@dataclass
class ItemBasedConfig:
    """Settings of ItemBasedCF (JSON-serialisable; the saved model's params)."""

    #: Neighbours averaged per prediction, stored neighbours per item, shrinkage, damping.
    k: int = 20
    min_support: int = 5
    shrinkage: float = 100.0
    max_neighbours: int = 100
    damping: float = 0.5
    #: Interaction neighbours per candidate item in the ranking score.
    rank_neighbours: int = 50
    #: Like factor temperature (fraction of the scale's span; None: rank by interactions only).
    like_temperature: float | None = 0.1
    #: rank_neighbours values tried on validation (with the like factor's grid).
    rank_neighbours_grid: list[int] = field(default_factory=lambda: [25, 50, 100, 200])


class ItemBasedCF(Recommender):
    """Item-based k-NN.

    Ratings: sim(i, j) = adjusted cosine: sum_u c_ui c_uj / sqrt(sum_u c_ui^2 sum_u c_uj^2) with
    c_ui = r_ui - mean_u and the sums over users who rated both; 0 below `min_support` such
    users, times n / (n + shrinkage). The `max_neighbours` most similar items (sim > 0) are kept
    per item. r_hat(u, i) = b_ui + sum_j sim(i, j) (r_uj - b_uj) / (sum_j sim(i, j) + damping)
    over the k most similar stored neighbours of i that u rated, b_ui = mu + b_u + b_i.

    Ranking (Deshpande & Karypis 2004): s(u, i) = sum of cos(i, j) over the `rank_neighbours`
    items j most similar to i that u rated or watched, cos on the binary interactions; times the
    like factor of r_hat (ml.models.ranking). Defaults chosen on validation carve-outs of the
    anime sample and MovieLens 100K training rows (never the test set).
    """

    name = "item_based"
    _score_chunk = 32_768

    def __init__(self, config: ItemBasedConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = replace(config or ItemBasedConfig(), **settings)
        self.like_temperature = self.config.like_temperature
        self._neighbours: np.ndarray | None = None
        self._sims: np.ndarray | None = None
        self._lookup: RatingLookup | None = None
        self._inverse: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._rank_neighbours: np.ndarray | None = None
        self._rank_sims: np.ndarray | None = None
        self._spread: sp.csr_matrix | None = None

    @property
    def k(self) -> int:
        return self.config.k

    @property
    def damping(self) -> float:
        return self.config.damping

    def get_params(self) -> dict[str, Any]:
        return asdict(replace(self.config, like_temperature=self.like_temperature))

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self._inverse = None
        ratings = data.csr()
        by_item = centred(ratings, data.user_means()).T.tocsr()
        cfg = self.config
        self._neighbours, self._sims = corated_similarity_top_k(
            by_item, k=cfg.max_neighbours, min_support=cfg.min_support, shrinkage=cfg.shrinkage
        )
        self._lookup = deviation_lookup(data, ratings, self._check_fitted()[2].predict)
        widest = max(
            [cfg.rank_neighbours, *(cfg.rank_neighbours_grid if validation is not None else [])]
        )
        self._rank_neighbours, self._rank_sims = cosine_top_k_from_counts(
            item_cooccurrence(data.interactions(), np.float32), widest
        )
        self._spread = None

    def _tune_ranking(self, targets: ValidationTargets) -> None:
        """rank_neighbours and the like factor's temperature with the best validation NDCG."""
        if not len(targets):
            return
        results: dict[tuple[int, float | None], float] = {}
        for k in sorted(set(self.config.rank_neighbours_grid)):
            self.config = replace(self.config, rank_neighbours=k)
            self._spread = None
            for temperature, ndcg in self._validation_ndcg(targets, LIKE_GRID).items():
                results[(k, temperature)] = ndcg
        k, self.like_temperature = max(results, key=results.__getitem__)
        self.config = replace(self.config, rank_neighbours=k)
        self._spread = None

    # ------------------------------------------------------------------ ranking
    def _interaction_spread(self) -> sp.csr_matrix:
        """S (items x items): S[j, i] = cos(i, j) for the rank_neighbours nearest j of each i, so
        that rows @ S sums each candidate's similarities to the items a user has."""
        if self._spread is None:
            if self._rank_neighbours is None or self._rank_sims is None:
                raise NotFittedError("ItemBasedCF is not fitted")
            width = min(self.config.rank_neighbours, self._rank_neighbours.shape[1])
            neighbours, sims = self._rank_neighbours[:, :width], self._rank_sims[:, :width]
            item, rank = np.nonzero(neighbours >= 0)
            n_items = len(self.items)
            self._spread = sp.csr_matrix(
                (sims[item, rank].astype(np.float64), (neighbours[item, rank], item)),
                shape=(n_items, n_items),
            )
        return self._spread

    def _fold_in_interaction_scores(
        self, rows: sp.csr_matrix, user_idx: np.ndarray
    ) -> np.ndarray | None:
        return np.asarray((rows @ self._interaction_spread()).todense(), dtype=np.float64)

    def _contributions(self, seen: np.ndarray, items: np.ndarray) -> np.ndarray | None:
        """cos(i, j) of each item i to each seen item j, where j is among i's neighbours."""
        spread = self._interaction_spread()
        return np.asarray(spread[seen][:, items].T.todense(), dtype=np.float64)

    # ------------------------------------------------------------------ ratings
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
        return self._scores_of_candidates(np.asarray(user_idx, dtype=np.int64), None)

    def _scores_of_candidates(
        self, user_idx: np.ndarray, candidates: np.ndarray | None
    ) -> np.ndarray:
        """Batched `_score_user` of each row's candidates (NaN elsewhere; None: every item):
        every rating of the block's users is spread to the items that list the rated
        item as a neighbour, then the k most similar per (user, item) are kept."""
        _, _, lookup = self._state()
        biases = self._check_fitted()[2]
        indptr, inv_item, inv_rank, inv_sim = self._inverted()
        n_items, ratings = len(self.items), lookup.matrix
        wanted = candidate_mask(candidates, n_items)
        out = np.full((len(user_idx), n_items), np.nan)
        known = np.flatnonzero(user_idx >= 0)
        owner, position = expand_rows(ratings.indptr, user_idx[known])
        spread = np.diff(indptr)[ratings.indices[position]]
        costs = np.bincount(owner, weights=spread, minlength=len(known)).astype(np.int64)
        for block in cost_blocks(costs, BATCH_CANDIDATES):
            rows = known[block]
            users = user_idx[rows]
            owner, position = expand_rows(ratings.indptr, users)
            devs = (ratings.data[position] - lookup.OFFSET).astype(np.float32).astype(np.float64)
            rating_of, entry = expand_rows(indptr, ratings.indices[position])
            items = inv_item[entry]
            if wanted is not None:
                keep = wanted[rows[owner[rating_of]], items]
                rating_of, entry, items = rating_of[keep], entry[keep], items[keep]
            agg = first_k_weighted(
                owner[rating_of] * n_items + items,
                inv_rank[entry],
                inv_sim[entry],
                devs[rating_of],
                len(users) * n_items,
                self.k,
                self.damping,
            ).reshape(len(users), n_items)
            if wanted is None:
                out[rows] = biases.for_users(users) + agg
            else:
                at_user, at_item = np.nonzero(wanted[rows])
                base = biases.predict(users[at_user], at_item)
                out[rows[at_user], at_item] = base + agg[at_user, at_item]
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

    def _fold_in_ratings(
        self, rated: np.ndarray, values: np.ndarray, user_idx: int
    ) -> np.ndarray | None:
        """b_u folded in as in the baseline's ALS step, then the neighbours' deviations."""
        _, _, biases = self._check_fitted()
        base = biases.mu + biases.fold_in_user(rated, values) + biases.bi
        agg = self._scores_from_deviations(rated, (values - base[rated]).astype(np.float32))
        return np.where(np.isnan(agg), base, base + agg)

    def neighbours(self, anime_id: Any, k: int = 10) -> list[tuple[Any, float]]:
        """The k most similar anime (stored neighbours, sim > 0), most similar first."""
        neighbours, sims, _ = self._state()
        i = self.items.index_of(anime_id)
        if i < 0:
            return []
        valid = neighbours[i] >= 0
        cand, cand_sims = neighbours[i][valid][:k], sims[i][valid][:k]
        return list(zip(self.items.raws_of(cand), cand_sims.astype(float).tolist(), strict=True))

    # ------------------------------------------------------------------ persistence
    def _save_state(self, path: Path) -> None:
        neighbours, sims, lookup = self._state()
        if self._rank_neighbours is None or self._rank_sims is None:
            raise NotFittedError("ItemBasedCF is not fitted")
        width = min(self.config.rank_neighbours, self._rank_neighbours.shape[1])
        np.savez(
            path / STATE_FILE,
            neighbours=neighbours,
            sims=sims,
            rank_neighbours=self._rank_neighbours[:, :width],
            rank_sims=self._rank_sims[:, :width],
            **lookup.saved_arrays(),
        )

    def _load_state(self, path: Path) -> None:
        with np.load(path / STATE_FILE, allow_pickle=False) as state:
            self._neighbours, self._sims = state["neighbours"], state["sims"]
            self._rank_neighbours, self._rank_sims = state["rank_neighbours"], state["rank_sims"]
            self._inverse = self._spread = None
            shape = (len(self._check_fitted()[0]), len(self.items))
            self._lookup = RatingLookup.from_saved(state, shape)
