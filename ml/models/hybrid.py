"""HybridWeightedCF: a blend of component models, for ratings and for ranking.

Ratings: r_hat = alpha * user + beta * item + gamma * ncf, weights >= 0 summing to 1, fitted by
least squares on validation pairs (with each k-NN component's damping). A component without an
answer (unknown id, no neighbours) drops out and the remaining weights are renormalised; with no
answer at all the baseline answers.

Ranking: s(u, i) = sum_m w_m s_m(u, i) / max_j s_m(u, j) over the components' interaction
scores (user-based, item-based, NCF and, when given, EASE^R), times the like factor of the
blended r_hat (ml.models.ranking); the w_m and the like factor's temperature are chosen on
validation NDCG@10 by coordinate search.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import nnls

from ml.data import RatingsData
from ml.exceptions import NotFittedError
from ml.models.base import Recommender
from ml.models.ease import EASE
from ml.models.item_based import ItemBasedCF
from ml.models.ranking import (
    CANDIDATES,
    LIKE_GRID,
    VALIDATION_K,
    ValidationTargets,
    like_factor,
    stage_one,
    stage_two,
)
from ml.models.user_based import UserBasedCF
from ml.splits import validation_split

log = logging.getLogger(__name__)

COMPONENTS_FILE = "components.json"
MIN_BLEND_ROWS = 20
#: Prediction shrinkage (damping) values tried for each k-NN component, on at most
#: DAMPING_ROWS validation pairs (a seeded sample beyond that).
DAMPING_GRID = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
DAMPING_ROWS = 50_000
#: Ranking weights tried per component in the coordinate search, and its passes.
#: Weights a component may join the ranking blend with (the first component has weight 1).
RANK_WEIGHT_GRID = (0.25, 0.5, 1.0)
#: A component joins the blend only if it raises validation NDCG@10 by more than this many
#: standard errors of the per-user differences (a paired test: no chasing validation noise).
SIGNIFICANCE = 2.0


class HybridWeightedCF(Recommender):
    """Blend of user-based, item-based (and NCF, EASE^R when given) for ratings and ranking.

    fit() fits the components that are not fitted yet (on the training ratings minus a per-user
    validation carve-out when no validation set is given), then on the validation set: the
    rating weights (w >= 0, sum 1, least squares on the pairs every rating component answers;
    with tune_damping each k-NN component's damping, on a copy), and with tune_ranking the
    ranking weights and the like factor's temperature. With a carve-out and refit=True the
    components it fitted are then refitted on all the ratings. Given fitted components and
    weights, the hybrid predicts and recommends without fit().
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
        *,
        ease_model: Recommender | None = None,
        rank_weights: dict[str, float] | None = None,
        like_temperature: float | None = 0.1,
        tune_ranking: bool = True,
        dampings: dict[str, float] | None = None,
    ) -> None:
        super().__init__()
        given = user_based_model is not None or item_based_model is not None
        self.components: dict[str, Recommender] = {
            "user_based": user_based_model or UserBasedCF(),
            "item_based": item_based_model or ItemBasedCF(),
        }
        if ncf_model is not None:
            self.components["ncf"] = ncf_model
        if ease_model is not None or not given:
            self.components["ease"] = ease_model or EASE()
        self._given_weights = {
            "user_based": float(user_weight),
            "item_based": float(item_weight),
            "ncf": float(ncf_weight),
        }
        self.weights = self._normalised(
            {n: self._given_weights[n] for n in self._rating_components()}
        )
        self.rank_weights = {n: 1.0 for n in self.components} | dict(rank_weights or {})
        self.like_temperature = like_temperature
        self.dampings = dict(dampings or {})
        self._apply_dampings()
        self.fit_weights = bool(fit_weights)
        self.validation_fraction = float(validation_fraction)
        self.seed = int(seed)
        self.refit = bool(refit)
        self.tune_damping = bool(tune_damping)
        self.tune_ranking = bool(tune_ranking)
        self._item_maps: dict[str, np.ndarray] = {}
        self._user_maps: dict[str, np.ndarray] = {}

    @staticmethod
    def _normalised(weights: dict[str, float]) -> dict[str, float]:
        clean = {n: max(w, 0.0) for n, w in weights.items()}
        total = sum(clean.values())
        return {n: (w / total if total > 0 else 1.0 / len(clean)) for n, w in clean.items()}

    def _rating_components(self) -> list[str]:
        return [name for name, model in self.components.items() if model.predicts_ratings]

    def _apply_dampings(self) -> None:
        """Give each k-NN component its chosen damping, on a copy (the caller's model keeps
        its own setting)."""
        for name, damping in self.dampings.items():
            model = self.components.get(name)
            if isinstance(model, UserBasedCF | ItemBasedCF) and model.damping != damping:
                model = self.components[name] = copy.copy(model)
                model.config = replace(model.config, damping=damping)

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
            "rank_weights": dict(self.rank_weights),
            "like_temperature": self.like_temperature,
            "tune_ranking": self.tune_ranking,
            "dampings": dict(self.dampings),
        }

    def refit_params(self) -> dict[str, Any]:
        """Every weight, damping and temperature as chosen, nothing tuned again."""
        return self.get_params() | {
            "fit_weights": False,
            "tune_damping": False,
            "tune_ranking": False,
        }

    # ----------------------------------------------------------------- fitting
    def fit(
        self, ratings: pd.DataFrame | RatingsData, validation: pd.DataFrame | None = None
    ) -> Self:
        """Fit unfitted components (minus a validation carve-out if none given), then weights."""
        frame = ratings if isinstance(ratings, pd.DataFrame) else ratings.to_frame()
        tuning = self.fit_weights or self.tune_ranking
        fit_part, carved = frame, validation is None and tuning
        if carved:
            fit_part, validation = validation_split(frame, self.validation_fraction, self.seed)
        unfitted = [name for name, model in self.components.items() if not model.is_fitted]
        for name in unfitted:
            log.info("hybrid: fitting component %s", name)
            self.components[name].fit(fit_part, validation)
        super().fit(frame, validation if tuning else None)
        if carved and self.refit and unfitted:
            for name in unfitted:
                log.info("hybrid: refitting component %s on all ratings", name)
                model = self.components[name]
                self.components[name] = type(model)(**model.refit_params()).fit(frame)
            self._apply_dampings()
            self._build_maps()
        return self

    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self._build_maps()
        if self.fit_weights and validation is not None and len(validation):
            if self.tune_damping:
                self._tune_damping(validation)
            self.weights = self._fit_weights(validation)
        log.info("hybrid weights: %s", self.weights)

    def _tune_ranking(self, targets: ValidationTargets) -> None:
        """Ranking weights and the like factor's temperature by forward selection on the
        validation NDCG@10: the best component alone (with its best temperature), then, one at
        a time, the component and weight that raise NDCG most, while the gain is significant
        (paired over users, > SIGNIFICANCE standard errors). Components' scores and the blended
        ratings are computed once."""
        if not self.tune_ranking or not len(targets):
            return
        parts = self._normalised_interactions(targets.users)
        ratings = self.score_users(targets.users)
        seen = self._seen_rows(targets.users)

        def best_temperature(weights: dict[str, float]) -> tuple[np.ndarray, float | None]:
            blended = self._blend_interactions(parts, weights)
            candidates, stage = stage_one(blended, seen, self._tie_break(), CANDIDATES)
            chosen = _take(ratings, candidates)
            results = []
            for temperature in LIKE_GRID:
                like = like_factor(chosen, self.rating_min, self.rating_max, temperature)
                top, _ = stage_two(candidates, stage, chosen, VALIDATION_K, like)
                results.append((targets.ndcg_per_user(top), temperature))
            return max(results, key=lambda result: float(result[0].mean()))

        alone = {name: best_temperature({name: 1.0}) for name in parts}
        first = max(alone, key=lambda name: float(alone[name][0].mean()))
        weights, (per_user, temperature) = {first: 1.0}, alone[first]
        while True:
            best: tuple[float, dict[str, float], np.ndarray, float | None] | None = None
            for name in (name for name in parts if name not in weights):
                for value in RANK_WEIGHT_GRID:
                    trial = weights | {name: value}
                    scores, trial_temperature = best_temperature(trial)
                    difference = scores - per_user
                    gain = float(difference.mean())
                    error = float(difference.std()) / np.sqrt(len(difference))
                    if gain > SIGNIFICANCE * error and (best is None or gain > best[0]):
                        best = (gain, trial, scores, trial_temperature)
            if best is None:
                break
            _, weights, per_user, temperature = best
        self.rank_weights = {name: weights.get(name, 0.0) for name in self.components}
        self.like_temperature = temperature
        log.info(
            "hybrid ranking weights %s, like temperature %s (validation NDCG@10 %.4f)",
            self.rank_weights,
            temperature,
            float(per_user.mean()),
        )

    def _build_maps(self) -> None:
        """Per component: its item index for each of the hybrid's items, its user index for
        each of the hybrid's users (-1 unknown)."""
        users, items, _ = self._check_fitted()
        self._item_maps = {n: m.items.indices_of(items.raw) for n, m in self.components.items()}
        self._user_maps = {
            name: (m.users.indices_of(users.raw) if m.users is not None else -np.ones(len(users)))
            for name, m in self.components.items()
        }

    def _check_fitted(self) -> tuple[Any, Any, Any]:
        """The hybrid's own state; given fitted components and no fit(), the first rating
        component's vocabularies, biases and interactions."""
        if self._biases is None and all(m.is_fitted for m in self.components.values()):
            self._adopt(self.components[self._rating_components()[0]])
        return super()._check_fitted()

    def _adopt(self, model: Recommender) -> None:
        self.users, self._items, self._biases = model.users, model._items, model._biases
        self.rating_min, self.rating_max = model.rating_min, model.rating_max
        self._seen, self._popularity = model._seen, model._popularity
        self._build_maps()

    def _fit_weights(self, validation: pd.DataFrame) -> dict[str, float]:
        """Simplex weights from the rating components' predictions of the validation pairs."""
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
        names = self._rating_components()
        return self._normalised(dict(zip(names, solution.tolist(), strict=True)))

    def _tune_damping(self, validation: pd.DataFrame) -> None:
        """Each k-NN component's damping (shrinkage of its neighbour term towards the baseline),
        chosen by the blend's validation RMSE, weights refitted for every value; on a copy of
        the component, so a model shared with the caller keeps its own setting."""
        if len(validation) > DAMPING_ROWS:
            validation = validation.sample(n=DAMPING_ROWS, random_state=self.seed)
        users, items, target = _pairs(validation)
        preds, masks = self._component_predictions(users, items)
        for column, name in enumerate(self._rating_components()):
            model = self.components[name]
            if not isinstance(model, UserBasedCF | ItemBasedCF):
                continue
            errors = {}
            for damping in (*DAMPING_GRID, model.damping):
                trial = copy.copy(model)
                trial.config = replace(model.config, damping=damping)
                preds[:, column], masks[:, column] = trial.predict_many(
                    users, items, with_mask=True
                )
                blended = self._blend(preds, masks, self._solve_weights(preds, masks, target))
                errors[damping] = float(np.sqrt(np.nanmean((blended - target) ** 2)))
            self.dampings[name] = min(errors, key=errors.__getitem__)
            self._apply_dampings()
            preds[:, column], masks[:, column] = self.components[name].predict_many(
                users, items, with_mask=True
            )
            log.info(
                "hybrid: %s damping %s (validation RMSE %.4f)",
                name,
                self.dampings[name],
                errors[self.dampings[name]],
            )

    # ----------------------------------------------------------------- ratings
    def _component_predictions(
        self, user_ids: np.ndarray, anime_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(predictions, answered mask), each pairs x rating components."""
        results = [
            self.components[n].predict_many(user_ids, anime_ids, with_mask=True)
            for n in self._rating_components()
        ]
        return np.column_stack([p for p, _ in results]), np.column_stack([m for _, m in results])

    def _blend(
        self, preds: np.ndarray, masks: np.ndarray, weights: dict[str, float] | None = None
    ) -> np.ndarray:
        """Weighted mean over the answering components (last axis), NaN where none answers."""
        chosen = self.weights if weights is None else weights
        scaled = np.array([chosen[n] for n in self._rating_components()]) * masks
        total = scaled.sum(axis=-1)
        out = np.full(total.shape, np.nan)
        blended = (scaled * np.nan_to_num(preds)).sum(axis=-1)
        np.divide(blended, total, out=out, where=total > 0)
        return out

    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        users, items, _ = self._check_fitted()
        return self._blend(*self._component_predictions(users.raw[user_idx], items.raw[item_idx]))

    def _on_own_items(self, name: str, scores: np.ndarray, clip: bool = True) -> np.ndarray:
        """A component's scores (last axis: its items), clipped to its scale when ``clip``, moved
        onto the hybrid's item indices (NaN where the component does not know the item)."""
        model, item_map = self.components[name], self._item_maps[name]
        if clip:
            scores = np.clip(scores, model.rating_min, model.rating_max)
        return np.where(item_map >= 0, scores[..., np.maximum(item_map, 0)], np.nan)

    def _component_users(self, name: str, user_idx: np.ndarray) -> np.ndarray:
        mapping = self._user_maps[name]
        return np.where(user_idx >= 0, mapping[np.maximum(user_idx, 0)], -1).astype(np.int64)

    def _score_user(self, user_idx: int) -> np.ndarray:
        return self._score_users(np.array([user_idx]))[0]

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Each rating component's batched scores, blended by `_blend`."""
        self._check_fitted()
        blocks = []
        for name in self._rating_components():
            model = self.components[name]
            if model.users is None:
                blocks.append(np.full((len(user_idx), len(self.items)), np.nan))
                continue
            scores = model._score_users(self._component_users(name, user_idx))
            blocks.append(self._on_own_items(name, scores))
        preds = np.stack(blocks, axis=-1)
        out = self._blend(preds, ~np.isnan(preds))
        out[user_idx < 0] = np.nan
        return out

    def _ratings_at(self, user_idx: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """The blend of the rating components' predictions of the candidates (the same
        computation per user for one user and for a batch); NaN where none answers."""
        self._check_fitted()
        blocks = []
        for name in self._rating_components():
            model = self.components[name]
            local = np.where(candidates >= 0, self._item_maps[name][np.maximum(candidates, 0)], -1)
            raw = model._ratings_at(self._component_users(name, user_idx), local)
            blocks.append(np.clip(raw, model.rating_min, model.rating_max))
        preds = np.stack(blocks, axis=-1)
        return self._blend(preds, ~np.isnan(preds))

    def _fold_in_ratings(
        self, rated: np.ndarray, values: np.ndarray, user_idx: int
    ) -> np.ndarray | None:
        raw_items = self.items.raw[rated]
        columns = []
        for name in self._rating_components():
            model = self.components[name]
            local = model.items.indices_of(raw_items)
            known = local >= 0
            local_user = int(self._component_users(name, np.array([user_idx]))[0])
            predicted = model._folded_ratings(local[known], values[known], local_user)
            columns.append(self._on_own_items(name, predicted))
        preds = np.stack(columns, axis=-1)
        return self._blend(preds, ~np.isnan(preds))

    # ----------------------------------------------------------------- ranking
    def _normalised_interactions(
        self,
        user_idx: np.ndarray,
        scores_of: Callable[[str, Recommender, np.ndarray], np.ndarray | None] | None = None,
        *,
        weighted_only: bool = False,
    ) -> dict[str, np.ndarray]:
        """Each ranking component's interaction scores on the hybrid's items, non-negative and
        divided by the user's largest (0 where it has none); ``weighted_only``: only of the
        components with a ranking weight."""
        parts = {}
        for name, model in self.components.items():
            if weighted_only and not self.rank_weights.get(name, 0.0):
                continue
            users = self._component_users(name, user_idx)
            if scores_of is None:
                scores = model._interaction_scores(np.maximum(users, 0))
            else:
                scores = scores_of(name, model, users)
            if scores is None:
                continue
            scores = np.maximum(np.nan_to_num(scores), 0.0)
            scores[users < 0] = 0.0
            own = np.nan_to_num(self._on_own_items(name, scores, clip=False))
            largest = own.max(axis=1, keepdims=True) if own.shape[1] else np.zeros((len(own), 1))
            np.divide(own, largest, out=own, where=largest > 0)
            parts[name] = own
        return parts

    def _blend_interactions(
        self, parts: dict[str, np.ndarray], weights: dict[str, float] | None = None, rows: int = 0
    ) -> np.ndarray:
        """sum_m w_m part_m (the ranking weights unless ``weights`` are given); ``rows`` zeros
        when there are no parts."""
        chosen = self.rank_weights if weights is None else weights
        rows = len(next(iter(parts.values()))) if parts else rows
        total = np.zeros((rows, len(self.items)))
        for name, part in parts.items():
            total += chosen.get(name, 0.0) * part
        return total

    def _interaction_scores(self, user_idx: np.ndarray) -> np.ndarray | None:
        self._check_fitted()
        parts = self._normalised_interactions(user_idx, weighted_only=True)
        return self._blend_interactions(parts, rows=len(user_idx))

    def _fold_in_interaction_scores(
        self, rows: sp.csr_matrix, user_idx: np.ndarray
    ) -> np.ndarray | None:
        self._check_fitted()
        coo = sp.coo_matrix(rows)

        def folded(name: str, model: Recommender, users: np.ndarray) -> np.ndarray | None:
            columns = self._item_maps[name][coo.col]
            known = columns >= 0
            local = sp.csr_matrix(
                (coo.data[known], (coo.row[known], columns[known])),
                shape=(rows.shape[0], len(model.items)),
            )
            return model._fold_in_interaction_scores(local, users)

        parts = self._normalised_interactions(user_idx, folded, weighted_only=True)
        return self._blend_interactions(parts, rows=rows.shape[0])

    def _contributions(self, seen: np.ndarray, items: np.ndarray) -> np.ndarray | None:
        """The item-based component's contributions (its item-item part of the blend)."""
        model = self.components.get("item_based")
        if model is None:
            return None
        mapping = self._item_maps["item_based"]
        local_seen, local_items = mapping[seen], mapping[items]
        out = np.zeros((len(items), len(seen)))
        rows, cols = np.flatnonzero(local_items >= 0), np.flatnonzero(local_seen >= 0)
        found = model._contributions(local_seen[cols], local_items[rows])
        if found is None:
            return None
        out[np.ix_(rows, cols)] = found
        return out

    # ----------------------------------------------------------------- persistence
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
        if not self.components:
            raise NotFittedError("hybrid model has no components")
        self.weights = self._normalised(
            {n: self._given_weights[n] for n in self._rating_components()}
        )
        self.rank_weights = {n: self.rank_weights.get(n, 1.0) for n in self.components}
        self._build_maps()


def _take(matrix: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix[r, columns[r, j]], NaN where columns is -1."""
    values = np.take_along_axis(matrix, np.maximum(columns, 0), axis=1)
    return np.where(columns >= 0, values, np.nan)


def _pairs(ratings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user ids, anime ids, ratings as float64) of a ratings DataFrame."""
    return (
        ratings["user_id"].to_numpy(),
        ratings["anime_id"].to_numpy(),
        ratings["rating"].to_numpy(dtype=np.float64),
    )
