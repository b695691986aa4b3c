"""PopularityRecommender: the most-rated items, a reference point for ranking metrics."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender

STATE_FILE = "popularity.npz"


class PopularityRecommender(Recommender):
    """Predicts the damped item mean (sum r + damping * mu) / (n + damping) for everyone.

    recommend() ranks by number of ratings (popularity), not by the predicted rating, and
    reports each item's damped mean as its score.
    """

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

    def recommend(
        self, user_id: Any, n: int = 10, exclude: Iterable[Any] | None = None
    ) -> list[tuple[Any, float]]:
        """The n most-rated items the user has not rated, with their damped mean rating."""
        counts, scores = self._state()
        order = np.argsort(-counts, kind="stable")
        ranking = np.empty(len(order))
        ranking[order] = -np.arange(len(order), dtype=np.float64)
        picked = self._top_n(ranking, self.rated_indices(user_id), n, exclude)
        idx = self.items.indices_of([anime_id for anime_id, _ in picked])
        clipped = np.clip(scores[idx], self.rating_min, self.rating_max)
        return [(a, float(s)) for (a, _), s in zip(picked, clipped, strict=True)]

    def _save_state(self, path: Path) -> None:
        counts, scores = self._state()
        np.savez(path / STATE_FILE, counts=counts, scores=scores)

    def _load_state(self, path: Path) -> None:
        with np.load(path / STATE_FILE, allow_pickle=False) as state:
            self._counts, self._item_scores = state["counts"], state["scores"]
