"""Global mean + regularised user and item biases, fitted by alternating least squares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.data import RatingsData

#: Ridge of a folded-in user's bias (the baseline's reg_u default).
FOLD_IN_REG_U = 15.0


@dataclass
class Biases:
    """b_ui = mu + b_u + b_i; unknown users or items (index -1) contribute a bias of 0."""

    mu: float
    bu: np.ndarray
    bi: np.ndarray

    def predict(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """Baseline estimate for index pairs (float64, unclipped)."""
        u = np.asarray(user_idx, dtype=np.int64)
        i = np.asarray(item_idx, dtype=np.int64)
        bu = np.where(u >= 0, self.bu[np.maximum(u, 0)], 0.0) if len(self.bu) else 0.0
        bi = np.where(i >= 0, self.bi[np.maximum(i, 0)], 0.0) if len(self.bi) else 0.0
        return np.asarray(self.mu + bu + bi, dtype=np.float64)

    def fold_in_user(self, rated: np.ndarray, values: np.ndarray) -> float:
        """b_u of a user known only by ratings ``values`` of item indices ``rated``:
        sum_j (r_j - mu - b_j) / (FOLD_IN_REG_U + n), as in the baseline's ALS step."""
        if not len(rated):
            return 0.0
        residual = np.asarray(values, dtype=np.float64) - self.mu - self.bi[rated]
        return float(residual.sum() / (FOLD_IN_REG_U + len(rated)))

    def for_user(self, user_idx: int) -> np.ndarray:
        """Baseline estimate of every item for one user index (-1: unknown user)."""
        return self.for_users(np.array([user_idx]))[0]

    def for_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Baseline estimate of every item for each user index, users x items (-1: unknown)."""
        u = np.asarray(user_idx, dtype=np.int64)
        bu = np.where(u >= 0, self.bu[np.maximum(u, 0)], 0.0) if len(self.bu) else 0.0 * u
        return (self.mu + bu)[:, None] + self.bi.astype(np.float64)[None, :]


def fit_biases(
    data: RatingsData, *, reg_u: float = 15.0, reg_i: float = 10.0, n_epochs: int = 10
) -> Biases:
    """Surprise's BaselineOnly ALS, vectorised.

    Each epoch: b_i = sum_u (r_ui - mu - b_u) / (reg_i + |U_i|), then
    b_u = sum_i (r_ui - mu - b_i) / (reg_u + |I_u|); the sums of r_ui - mu are taken once and
    the sums of the other bias are products with the users x items pattern.
    """
    u, i = data.user_idx, data.item_idx
    r = data.rating.astype(np.float64)
    mu = float(r.mean())
    n_u = np.bincount(u, minlength=data.n_users).astype(np.float64)
    n_i = np.bincount(i, minlength=data.n_items).astype(np.float64)
    centred = r - mu
    sum_u = np.bincount(u, weights=centred, minlength=data.n_users)
    sum_i = np.bincount(i, weights=centred, minlength=data.n_items)
    pattern = data.csr(np.ones(data.n_ratings, dtype=np.float32)).astype(np.float64)
    bu = np.zeros(data.n_users)
    bi = np.zeros(data.n_items)
    for _ in range(n_epochs):
        bi = (sum_i - pattern.T @ bu) / (reg_i + n_i)
        bu = (sum_u - pattern @ bi) / (reg_u + n_u)
    return Biases(mu=mu, bu=bu, bi=bi)
