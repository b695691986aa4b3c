"""BaselinePredictor: global mean + regularised user and item biases (Surprise's BaselineOnly)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ml.data import RatingsData
from ml.models.base import Recommender
from ml.models.biases import fit_biases


class BaselinePredictor(Recommender):
    """r_hat(u, i) = mu + b_u + b_i, biases by ALS; reg sets reg_u and reg_i together."""

    name = "baseline"
    answers_unknown = True

    def __init__(
        self,
        reg: float | None = None,
        reg_u: float = 15.0,
        reg_i: float = 10.0,
        n_epochs: int = 10,
    ) -> None:
        super().__init__()
        self.reg_u = float(reg if reg is not None else reg_u)
        self.reg_i = float(reg if reg is not None else reg_i)
        self.n_epochs = int(n_epochs)

    def get_params(self) -> dict[str, Any]:
        return {"reg_u": self.reg_u, "reg_i": self.reg_i, "n_epochs": self.n_epochs}

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self._biases = fit_biases(data, reg_u=self.reg_u, reg_i=self.reg_i, n_epochs=self.n_epochs)

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        _, _, biases = self._check_fitted()
        return biases.predict(user_idx, item_idx)

    def _score_user(self, user_idx: int) -> np.ndarray:
        return self._check_fitted()[2].for_user(user_idx)
