"""EASE^R (Steck 2019): a linear item-item model of interactions, the strong simple reference.

B = argmin ||X - X B||^2 + lam ||B||^2 subject to diag(B) = 0, in closed form:
P = (X^T X + lam I)^-1, B = I - P diag(1 / diag(P)) (so B_ij = -P_ij / P_jj, B_jj = 0), X the
users x items binary interactions (rated or watched). s(u, i) = x_u . B[:, i]. It ranks by
interactions alone and predicts no ratings: ``predict`` answers with the baseline.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import lapack

from ml.data import RatingsData
from ml.exceptions import DataError, NotFittedError
from ml.models.base import Recommender
from ml.models.knn.cosine import item_cooccurrence
from ml.models.ranking import ValidationTargets

log = logging.getLogger(__name__)

WEIGHTS_FILE = "ease_weights.npy"
#: Rows symmetrised at once after the Cholesky inverse (which fills the upper triangle).
SYMMETRISE_BLOCK = 1024


@dataclass
class EASEConfig:
    """Settings of EASE (JSON-serialisable; the saved model's params)."""

    #: lam = lam_scale x the mean number of interactions per item (so one value suits data of
    #: any size); chosen on validation among lam_grid when fitted with a validation set.
    lam_scale: float = 4.0
    lam_grid: list[float] = field(default_factory=lambda: [2.0, 4.0, 8.0, 16.0])


class EASE(Recommender):
    """EASE^R on binary interactions; lam in units of the mean item interaction count."""

    name = "ease"
    predicts_ratings = False

    def __init__(self, config: EASEConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = replace(config or EASEConfig(), **settings)
        self.weights: np.ndarray | None = None
        self._gram: np.ndarray | None = None
        self._mean_count = 0.0

    def get_params(self) -> dict[str, Any]:
        return asdict(self.config)

    @property
    def lam(self) -> float:
        """The ridge lam of the fitted model, in interaction counts."""
        return self.config.lam_scale * self._mean_count

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        interactions = data.interactions()
        self._mean_count = interactions.nnz / max(data.n_items, 1)
        tuning = validation is not None and len(validation) > 0
        # Kept for the lam grid as float32 (counts below 2^24 are exact), else solved in place.
        gram = item_cooccurrence(interactions, dtype=np.float32 if tuning else np.float64)
        self.weights = self._solve(gram, self.lam, keep=tuning)
        self._gram = gram if tuning else None

    def _tune_ranking(self, targets: ValidationTargets) -> None:
        """lam_scale with the best validation NDCG (the weights are solved once per value)."""
        gram, self._gram = self._gram, None
        if gram is None or not len(targets):
            return
        results: dict[float, float] = {}
        for scale in sorted(set(self.config.lam_grid)):
            self.config = replace(self.config, lam_scale=scale)
            self.weights = None  # freed before the next solve: one n x n result at a time
            self.weights = self._solve(gram, self.lam, keep=True)
            results[scale] = self._validation_ndcg(targets, [None])[None]
            log.info("ease: lam_scale %s, validation NDCG@10 %.4f", scale, results[scale])
        best = max(results, key=results.__getitem__)
        if best != self.config.lam_scale:
            self.config = replace(self.config, lam_scale=best)
            self.weights = None
            self.weights = self._solve(gram, self.lam, keep=False)

    @staticmethod
    def _solve(gram: np.ndarray, lam: float, *, keep: bool) -> np.ndarray:
        """B = I - P diag(1 / diag(P)), P = (G + lam I)^-1 by Cholesky (float32 result).

        Works in place on a float64 ``gram`` unless ``keep`` (a float32 one is copied); the lower
        triangle is filled from the upper one by blocks, so the peak is one n x n float64 matrix
        besides the result (and a kept gram).
        """
        converted = gram.dtype != np.float64  # the conversion is a copy already
        symmetric = np.asarray(gram, dtype=np.float64).T  # F-ordered view of a C-ordered matrix
        regularised = (
            np.array(symmetric, order="F", copy=True) if keep and not converted else symmetric
        )
        regularised[np.diag_indices_from(regularised)] += lam
        factor, info = lapack.dpotrf(regularised, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            raise DataError(f"EASE: the regularised Gram matrix is not positive definite ({info})")
        precision, info = lapack.dpotri(factor, lower=0, overwrite_c=1)
        if info != 0:
            raise DataError(f"EASE: inverting the Gram matrix failed ({info})")
        n = len(precision)
        for start in range(0, n, SYMMETRISE_BLOCK):
            stop = min(start + SYMMETRISE_BLOCK, n)
            precision[start:stop, :start] = precision[:start, start:stop].T
            block = precision[start:stop, start:stop]
            block[np.tril_indices(stop - start, -1)] = block.T[np.tril_indices(stop - start, -1)]
        diagonal = np.diag(precision).copy()
        weights = np.empty((n, n), dtype=np.float32)
        np.divide(precision, -diagonal[None, :], out=weights, casting="same_kind")
        np.fill_diagonal(weights, 0.0)
        return weights

    def _state(self) -> np.ndarray:
        if self.weights is None:
            raise NotFittedError("EASE is not fitted")
        return self.weights

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        return np.full(len(user_idx), np.nan)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return np.full((len(user_idx), len(self.items)), np.nan)

    def _fold_in_interaction_scores(
        self, rows: sp.csr_matrix, user_idx: np.ndarray
    ) -> np.ndarray | None:
        return np.asarray(sp.csr_matrix(rows, dtype=np.float32) @ self._state(), dtype=np.float64)

    def _contributions(self, seen: np.ndarray, items: np.ndarray) -> np.ndarray | None:
        """B[j, i] of each item i from each seen item j."""
        return np.asarray(self._state()[np.ix_(seen, items)].T, dtype=np.float64)

    def _save_state(self, path: Path) -> None:
        np.save(path / WEIGHTS_FILE, self._state())

    def _load_state(self, path: Path) -> None:
        self.weights = np.load(path / WEIGHTS_FILE, mmap_mode="r", allow_pickle=False)
