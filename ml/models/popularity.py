"""PopularityRecommender: the most-rated items, a reference point for ranking metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender

STATE_FILE = "popularity.npz"


class PopularityRecommender(Recommender):
    """Ranks by number of ratings (most rated first, for everyone) and predicts the damped item
    mean (sum r + damping * mu) / (n + damping) as each item's rating."""

    name = "popularity"
    answers_unknown = True

    def __init__(self, damping: float = 10.0) -> None:
        super().__init__()
        self.damping = float(damping)
        self._counts: np.ndarray | None = None
        self._item_scores: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        return {"damping": self.damping}

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        counts = data.item_counts()
        sums = np.bincount(data.item_idx, weights=data.rating, minlength=data.n_items)
        mu = data.global_mean
        self._counts = counts.astype(np.int64)
        self._item_scores = (sums + self.damping * mu) / (counts + self.damping)

    def _state(self) -> tuple[np.ndarray, np.ndarray]:
        if self._counts is None or self._item_scores is None:
            raise NotFittedError("PopularityRecommender is not fitted")
        return self._counts, self._item_scores

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        scores = self._state()[1]
        return np.where(item_idx >= 0, scores[np.maximum(item_idx, 0)], np.nan)

    def _score_user(self, user_idx: int) -> np.ndarray:
        return self._state()[1].copy()

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return np.tile(self._state()[1], (len(user_idx), 1))

    def _fold_in_interaction_scores(
        self, rows: sp.csr_matrix, user_idx: np.ndarray
    ) -> np.ndarray | None:
        counts = self._state()[0].astype(np.float64)
        return np.tile(counts, (rows.shape[0], 1))

    def _tune_ranking(self, targets: Any) -> None:
        """Nothing to choose: popularity is the same chart for everyone."""

    def _save_state(self, path: Path) -> None:
        counts, scores = self._state()
        np.savez(path / STATE_FILE, counts=counts, scores=scores)

    def _load_state(self, path: Path) -> None:
        with np.load(path / STATE_FILE, allow_pickle=False) as state:
            self._counts, self._item_scores = state["counts"], state["scores"]
