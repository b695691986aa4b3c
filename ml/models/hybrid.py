"""HybridWeightedCF: a convex blend of component models, weights fitted on a validation set."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender
from ml.models.item_based import ItemBasedCF
from ml.models.user_based import UserBasedCF
from ml.splits import validation_split

log = logging.getLogger(__name__)

COMPONENTS_FILE = "components.json"
MIN_BLEND_ROWS = 20
#: Prediction shrinkage (damping) values tried for each k-NN component, on at most
#: DAMPING_ROWS validation pairs (a seeded sample beyond that).
DAMPING_GRID = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
DAMPING_ROWS = 50_000


class HybridWeightedCF(Recommender):
    """r_hat = alpha * user + beta * item + gamma * ncf, weights >= 0 summing to 1.

    fit() fits the components that are not fitted yet (on the training ratings minus a
    validation carve-out when no validation set is given), then the weights by least squares
    under w >= 0, sum(w) = 1 on the validation pairs every component answers; with a carve-out
    and refit=True those components are then refitted on all the ratings. With tune_damping,
    each k-NN component's damping is chosen with the weights on the same validation pairs
    (on a copy of the component). At prediction,
    a component without an answer (unknown id, no neighbours) drops out and the remaining
    weights are renormalised; with no answer at all the baseline answers.
    """

    name = "hybrid"
    _score_chunk = 65_536

    def __init__(
        self,
        user_based_model: Recommender | None = None,
        item_based_model: Recommender | None = None,
        ncf_model: Recommender | None = None,
        user_weight: float = 1.0,
        item_weight: float = 1.0,
        ncf_weight: float = 1.0,
        fit_weights: bool = True,
        validation_fraction: float = 0.1,
        seed: int = 42,
        refit: bool = True,
        tune_damping: bool = True,
    ) -> None:
        super().__init__()
        self.components: dict[str, Recommender] = {
            "user_based": user_based_model or UserBasedCF(),
            "item_based": item_based_model or ItemBasedCF(),
        }
        if ncf_model is not None:
            self.components["ncf"] = ncf_model
        self._given_weights = {
            "user_based": float(user_weight),
            "item_based": float(item_weight),
            "ncf": float(ncf_weight),
        }
        self.weights = self._normalised({n: self._given_weights[n] for n in self.components})
        self.fit_weights = bool(fit_weights)
        self.validation_fraction = float(validation_fraction)
        self.seed = int(seed)
        self.refit = bool(refit)
        self.tune_damping = bool(tune_damping)
        self._item_maps: dict[str, np.ndarray] = {}

    @staticmethod
    def _normalised(weights: dict[str, float]) -> dict[str, float]:
        clean = {n: max(w, 0.0) for n, w in weights.items()}
        total = sum(clean.values())
        return {n: (w / total if total > 0 else 1.0 / len(clean)) for n, w in clean.items()}

    def get_params(self) -> dict[str, Any]:
        return {
            "user_weight": self.weights.get("user_based", 0.0),
            "item_weight": self.weights.get("item_based", 0.0),
            "ncf_weight": self.weights.get("ncf", 0.0),
            "fit_weights": self.fit_weights,
            "validation_fraction": self.validation_fraction,
            "seed": self.seed,
            "refit": self.refit,
            "tune_damping": self.tune_damping,
        }

    def fit(
        self, ratings: pd.DataFrame | RatingsData, validation: pd.DataFrame | None = None
    ) -> Self:
        """Fit unfitted components (minus a validation carve-out if none given), then weights."""
        frame = ratings if isinstance(ratings, pd.DataFrame) else _to_frame(ratings)
        fit_part, carved = frame, validation is None
        if validation is None:
            fit_part, validation = validation_split(frame, self.validation_fraction, self.seed)
        unfitted = [name for name, model in self.components.items() if not model.is_fitted]
        for name in unfitted:
            log.info("hybrid: fitting component %s", name)
            self.components[name].fit(fit_part, validation)
        super().fit(frame, validation)
        if carved and self.refit and unfitted:
            for name in unfitted:
                log.info("hybrid: refitting component %s on all ratings", name)
                self.components[name].fit(frame)
            self._item_maps = self._build_item_maps()
        return self

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self._item_maps = self._build_item_maps()
        if self.fit_weights and validation is not None and len(validation):
            if self.tune_damping:
                self._tune_damping(validation)
            self.weights = self._fit_weights(validation)
        log.info("hybrid weights: %s", self.weights)

    def _build_item_maps(self) -> dict[str, np.ndarray]:
        """Per component: its item index for each of the hybrid's items (-1 unknown)."""
        return {name: m.items.indices_of(self.items.raw) for name, m in self.components.items()}

    def _fit_weights(self, validation: pd.DataFrame) -> dict[str, float]:
        """Simplex weights from the components' predictions of the validation pairs."""
        users, items, target = _pairs(validation)
        return self._solve_weights(*self._component_predictions(users, items), target)

    def _solve_weights(
        self, preds: np.ndarray, masks: np.ndarray, target: np.ndarray
    ) -> dict[str, float]:
        """argmin ||P w - r||^2 s.t. w >= 0, sum w = 1 (NNLS with a heavy sum-to-one row)."""
        rows = masks.all(axis=1)
        if rows.sum() < MIN_BLEND_ROWS:
            rows = np.ones(len(target), dtype=bool)
        penalty = np.sqrt(1e3 * rows.sum())
        a = np.vstack([preds[rows], np.full((1, preds.shape[1]), penalty)])
        b = np.concatenate([target[rows], [penalty]])
        solution, _ = nnls(a, b)
        return self._normalised(dict(zip(self.components, solution.tolist(), strict=True)))

    def _tune_damping(self, validation: pd.DataFrame) -> None:
        """Each k-NN component's damping (shrinkage of its neighbour term towards the baseline),
        chosen by the blend's validation RMSE, weights refitted for every value.

        A component is copied first, so a model shared with the caller keeps its own setting.
        """
        if len(validation) > DAMPING_ROWS:
            validation = validation.sample(n=DAMPING_ROWS, random_state=self.seed)
        users, items, target = _pairs(validation)
        preds, masks = self._component_predictions(users, items)
        for column, (name, model) in enumerate(self.components.items()):
            if not isinstance(model, UserBasedCF | ItemBasedCF):
                continue
            model = self.components[name] = copy.copy(model)
            errors = {}
            for damping in (*DAMPING_GRID, model.damping):
                model.damping = damping
                preds[:, column], masks[:, column] = model.predict_many(
                    users, items, with_mask=True
                )
                blended = self._blend(preds, masks, self._solve_weights(preds, masks, target))
                errors[damping] = float(np.sqrt(np.nanmean((blended - target) ** 2)))
            model.damping = min(errors, key=errors.__getitem__)
            preds[:, column], masks[:, column] = model.predict_many(users, items, with_mask=True)
            log.info(
                "hybrid: %s damping %s (validation RMSE %.4f)",
                name,
                model.damping,
                errors[model.damping],
            )

    def _component_predictions(
        self, user_ids: np.ndarray, anime_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(predictions, answered mask), each pairs x components."""
        results = [
            m.predict_many(user_ids, anime_ids, with_mask=True) for m in self.components.values()
        ]
        return np.column_stack([p for p, _ in results]), np.column_stack([m for _, m in results])

    def _blend(
        self, preds: np.ndarray, masks: np.ndarray, weights: dict[str, float] | None = None
    ) -> np.ndarray:
        chosen = self.weights if weights is None else weights
        scaled = np.array([chosen[n] for n in self.components]) * masks
        total = scaled.sum(axis=1)
        out = np.full(len(preds), np.nan)
        blended = (scaled * np.nan_to_num(preds)).sum(axis=1)
        np.divide(blended, total, out=out, where=total > 0)
        return out

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        users, items, _ = self._check_fitted()
        return self._blend(*self._component_predictions(users.raw[user_idx], items.raw[item_idx]))

    def _on_own_items(self, name: str, scores: np.ndarray) -> np.ndarray:
        """A component's scores (last axis: its items), clipped to its scale and moved onto the
        hybrid's item indices (NaN where the component does not know the item)."""
        model, item_map = self.components[name], self._item_maps[name]
        scores = np.clip(scores, model.rating_min, model.rating_max)
        return np.where(item_map >= 0, scores[..., np.maximum(item_map, 0)], np.nan)

    def _score_user(self, user_idx: int) -> np.ndarray:
        users, items, _ = self._check_fitted()
        if user_idx < 0:
            return np.full(len(items), np.nan)
        raw_user = users.raw[user_idx]
        columns = []
        for name, model in self.components.items():
            scores = model._score_user(
                model.users.index_of(raw_user) if model.users is not None else -1
            )
            columns.append(self._on_own_items(name, scores))
        preds = np.column_stack(columns)
        return self._blend(preds, ~np.isnan(preds))

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Batched `_score_user`: each component's batched scores, blended by `_blend`."""
        users, items, _ = self._check_fitted()
        raw_users = users.raw[np.maximum(user_idx, 0)]
        blocks = []
        for name, model in self.components.items():
            if model.users is None:
                blocks.append(np.full((len(user_idx), len(items)), np.nan))
                continue
            idx = np.where(user_idx >= 0, model.users.indices_of(raw_users), -1)
            blocks.append(self._on_own_items(name, model._score_users(idx)))
        preds = np.stack(blocks, axis=-1).reshape(-1, len(blocks))
        out = self._blend(preds, ~np.isnan(preds)).reshape(len(user_idx), len(items))
        out[user_idx < 0] = np.nan
        return out

    def _save_state(self, path: Path) -> None:
        classes = {name: model.name for name, model in self.components.items()}
        (path / COMPONENTS_FILE).write_text(json.dumps(classes))
        for name, model in self.components.items():
            model.save(path / name)

    def _load_state(self, path: Path) -> None:
        classes = json.loads((path / COMPONENTS_FILE).read_text())
        self.components = {}
        for name, class_name in classes.items():
            model = Recommender._class_for(class_name).load(path / name)
            self.components[name] = model
        self.weights = self._normalised({n: self._given_weights[n] for n in self.components})
        self._item_maps = self._build_item_maps()
        if not self.components:
            raise NotFittedError("hybrid model has no components")


def _pairs(ratings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user ids, anime ids, ratings as float64) of a ratings DataFrame."""
    return (
        ratings["user_id"].to_numpy(),
        ratings["anime_id"].to_numpy(),
        ratings["rating"].to_numpy(dtype=np.float64),
    )


def _to_frame(data: RatingsData) -> pd.DataFrame:
    """RatingsData back to a (user_id, anime_id, rating) DataFrame with raw ids."""
    return pd.DataFrame(
        {
            "user_id": data.users.raw[data.user_idx],
            "anime_id": data.items.raw[data.item_idx],
            "rating": data.rating,
        }
    )
