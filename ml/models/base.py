"""Recommender ABC: id mapping, baseline fallback, clipping, ranking and persistence.

Ratings: subclasses implement `_fit(data, validation)` and `_score(user_idx, item_idx)` (NaN
where the model has no answer, e.g. no neighbours); the base turns NaN and unknown ids into the
baseline's answer (mu + b_u + b_i), clips to the data's rating scale and maps raw ids in and out.

Ranking (`ml.models.ranking`): subclasses that rank by interactions implement
`_fold_in_interaction_scores(rows, user_idx)` (and may override `_interaction_scores` for users
seen in training); the base makes every list, for one user, a batch of users or a user folded in
from their current ratings, by the same two stages, and chooses the like factor's temperature on
validation. A model without interaction scores (the baseline) ranks by predicted rating.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.data import RatingsData, Vocabulary
from ml.exceptions import NotFittedError, UnknownModelError
from ml.metrics import relevance_threshold
from ml.models.biases import Biases, fit_biases
from ml.models.ranking import (
    CANDIDATES,
    LIKE_GRID,
    VALIDATION_K,
    ValidationTargets,
    like_factor,
    stage_one,
    stage_two,
    top_k_rows,
    validation_targets,
)

META_FILE = "meta.json"
VOCAB_FILE = "vocab.json"
BASE_ARRAYS = "base.npz"
FORMAT_VERSION = 2
#: Reasons given per recommended item (the user's own titles that added most to its score).
REASONS = 3

Ranked = tuple[np.ndarray, np.ndarray]


class Recommender(ABC):
    """Template for every model: fit / predict / recommend / fold-in / save / load."""

    name: ClassVar[str]
    #: True when `_score` also receives pairs whose user or item is unknown (index -1).
    answers_unknown: ClassVar[bool] = False
    #: False for models that only rank (their `predict` is the baseline's).
    predicts_ratings: ClassVar[bool] = True
    _score_chunk: ClassVar[int] = 262_144

    def __init__(self) -> None:
        self.users: Vocabulary | None = None
        self._items: Vocabulary | None = None
        self.rating_min = 0.0
        self.rating_max = 0.0
        self._biases: Biases | None = None
        self._seen: sp.csr_matrix | None = None
        self._popularity: np.ndarray | None = None
        #: Like factor temperature of the ranking (fraction of the scale's span; None: off).
        self.like_temperature: float | None = None

    # ----------------------------------------------------------------- subclass hooks
    @abstractmethod
    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        """Learn the model's state from indexed training data."""

    @abstractmethod
    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """Predicted ratings for index pairs; NaN where the model cannot answer."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, JSON-serialisable (used by save/load and manifests)."""
        return {}

    def refit_params(self) -> dict[str, Any]:
        """Constructor arguments that repeat the choices made on validation without tuning again
        (a refit on more data uses them); by default ``get_params()``."""
        return self.get_params()

    def _save_state(self, path: Path) -> None:  # noqa: B027 - optional hook
        """Write the learned state into the model directory (npz/npy/JSON/state_dict only)."""

    def _load_state(self, path: Path) -> None:  # noqa: B027 - optional hook
        """Read what `_save_state` wrote."""

    def _score_user(self, user_idx: int) -> np.ndarray:
        """Scores of every item for one user index (NaN where no answer); override to speed up."""
        n_items = len(self.items)
        if user_idx < 0 and not self.answers_unknown:
            return np.full(n_items, np.nan)
        users = np.full(n_items, user_idx, dtype=np.int64)
        return self._raw_scores(users, np.arange(n_items, dtype=np.int64))

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """`_score_user` of many user indices, len x n_items (NaN: no answer); override to batch."""
        rows = [self._score_user(int(u)) for u in user_idx]
        return np.vstack(rows) if rows else np.empty((0, len(self.items)))

    def _fold_in_interaction_scores(
        self, rows: sp.csr_matrix, user_idx: np.ndarray
    ) -> np.ndarray | None:
        """Interaction scores (len x n_items) of users given their interactions (binary rows over
        this model's items); ``user_idx`` >= 0 names a training user whose row is replaced.
        None: this model ranks by predicted rating."""
        return None

    def _interaction_scores(self, user_idx: np.ndarray) -> np.ndarray | None:
        """Interaction scores of training users (index >= 0) from their training interactions."""
        return self._fold_in_interaction_scores(self._seen_rows(user_idx), user_idx)

    def _ratings_at(self, user_idx: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Predicted ratings of each user's candidate items (-1: padding), NaN where the model
        has no answer (the ranking fills in the baseline and clips)."""
        user_idx = np.asarray(user_idx, dtype=np.int64)
        return gather_columns(self._scores_of_candidates(user_idx, candidates), candidates)

    def _scores_of_candidates(
        self, user_idx: np.ndarray, candidates: np.ndarray | None
    ) -> np.ndarray:
        """`_score_users`, right at least at each row's candidate items (-1: padding; None:
        every item); models that can skip the other items override it."""
        return self._score_users(user_idx)

    def _filled_ratings_at(self, user_idx: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """`_ratings_at` with the baseline where the model has no answer, clipped to the scale."""
        _, _, biases = self._check_fitted()
        raw = self._ratings_at(user_idx, candidates)
        users = np.repeat(np.asarray(user_idx, dtype=np.int64), candidates.shape[1])
        base = biases.predict(users, candidates.ravel()).reshape(candidates.shape)
        filled = np.clip(np.where(np.isnan(raw), base, raw), self.rating_min, self.rating_max)
        return np.where(candidates >= 0, filled, np.nan)

    def _fold_in_ratings(
        self, rated: np.ndarray, values: np.ndarray, user_idx: int
    ) -> np.ndarray | None:
        """Predicted ratings (unclipped, NaN: no answer) of every item for a user known by their
        ratings (``rated`` item indices, ``values``); None: the folded-in baseline answers."""
        return None

    def _contributions(self, seen: np.ndarray, items: np.ndarray) -> np.ndarray | None:
        """What each of ``seen`` (item indices a user interacted with) adds to each item's
        interaction score, len(items) x len(seen); None: the model's score is not a sum over
        the user's items (it cannot say why)."""
        return None

    # ----------------------------------------------------------------- fitting
    def fit(
        self, ratings: pd.DataFrame | RatingsData, validation: pd.DataFrame | None = None
    ) -> Self:
        """Fit on a ratings DataFrame (user_id, anime_id, rating; -1 = watched, not rated).

        With a validation DataFrame (held-out ratings of the same users), the model's choices
        (its ranking hyper-parameters, the like factor's temperature) are made on it.
        """
        data = ratings if isinstance(ratings, RatingsData) else RatingsData.from_dataframe(ratings)
        self.users, self._items = data.users, data.items
        self.rating_min, self.rating_max = data.rating_min, data.rating_max
        self._biases = fit_biases(data)
        self._seen = data.interactions()
        counts = data.item_counts().astype(np.float64)
        self._popularity = counts / max(float(counts.max(initial=0.0)), 1.0)
        self._fit(data, validation)
        if validation is not None and len(validation):
            self._tune_ranking(self.validation_targets(validation))
        return self

    def validation_targets(self, validation: pd.DataFrame) -> ValidationTargets:
        """The relevant validation ratings of the users this model knows."""
        users, items, _ = self._check_fitted()
        return validation_targets(
            validation,
            users.indices_of,
            items.indices_of,
            len(items),
            relevance_threshold(self.rating_min, self.rating_max),
        )

    def _tune_ranking(self, targets: ValidationTargets) -> None:
        """Choose the like factor's temperature on validation (models that rank by interactions
        and predict ratings); subclasses add their own ranking hyper-parameters."""
        if self.predicts_ratings and len(targets):
            scores = self._validation_ndcg(targets)
            if scores:
                self.like_temperature = _best(scores)

    def _validation_ndcg(
        self,
        targets: ValidationTargets,
        temperatures: Sequence[float | None] = LIKE_GRID,
        seen: sp.csr_matrix | None = None,
    ) -> dict[float | None, float]:
        """Validation NDCG@10 of the current state for each like-factor temperature ({} when
        the model has no interaction scores); ``seen`` (rows: targets.users) replaces the
        training interactions left out of the lists."""
        interaction = self._interaction_scores(targets.users)
        if interaction is None:
            return {}
        excluded = self._seen_rows(targets.users) if seen is None else seen
        candidates, stage = stage_one(interaction, excluded, self._tie_break(), CANDIDATES)
        ratings = self._filled_ratings_at(targets.users, candidates)
        results = {}
        for temperature in temperatures:
            like = like_factor(ratings, self.rating_min, self.rating_max, temperature)
            top, _ = stage_two(candidates, stage, ratings, VALIDATION_K, like)
            results[temperature] = targets.ndcg(top)
        return results

    @property
    def is_fitted(self) -> bool:
        return self._biases is not None

    @property
    def items(self) -> Vocabulary:
        if self._items is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted")
        return self._items

    def _check_fitted(self) -> tuple[Vocabulary, Vocabulary, Biases]:
        if self.users is None or self._items is None or self._biases is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted")
        return self.users, self._items, self._biases

    def knows_user(self, user_id: Any) -> bool:
        return self._check_fitted()[0].index_of(user_id) >= 0

    def knows_item(self, anime_id: Any) -> bool:
        return self._check_fitted()[1].index_of(anime_id) >= 0

    def encode(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(user_idx, item_idx, rating) of a DataFrame in this model's indices (-1: unknown)."""
        users, items, _ = self._check_fitted()
        return (
            users.indices_of(df["user_id"].to_numpy()),
            items.indices_of(df["anime_id"].to_numpy()),
            df["rating"].to_numpy(dtype=np.float64),
        )

    # ----------------------------------------------------------------- prediction
    def _raw_scores(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """`_score` over known pairs (all pairs if answers_unknown), in chunks; NaN elsewhere."""
        out = np.full(len(user_idx), np.nan)
        rows = np.arange(len(user_idx))
        if not self.answers_unknown:
            rows = rows[(user_idx >= 0) & (item_idx >= 0)]
        for start in range(0, len(rows), self._score_chunk):
            chunk = rows[start : start + self._score_chunk]
            out[chunk] = self._score(user_idx[chunk], item_idx[chunk])
        return out

    @overload
    def predict_many(
        self, user_ids: Sequence[Any] | np.ndarray, anime_ids: Sequence[Any] | np.ndarray
    ) -> np.ndarray: ...

    @overload
    def predict_many(
        self,
        user_ids: Sequence[Any] | np.ndarray,
        anime_ids: Sequence[Any] | np.ndarray,
        *,
        with_mask: Literal[True],
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def predict_many(
        self,
        user_ids: Sequence[Any] | np.ndarray,
        anime_ids: Sequence[Any] | np.ndarray,
        *,
        with_mask: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted ratings for pairs of raw ids, clipped to the scale.

        with_mask=True also returns a boolean array: True where the model itself answered,
        False where the baseline fallback did (unknown id or no neighbours).
        """
        users, items, biases = self._check_fitted()
        if len(user_ids) != len(anime_ids):
            raise ValueError("user_ids and anime_ids differ in length")
        u = users.indices_of(user_ids)
        i = items.indices_of(anime_ids)
        raw = self._raw_scores(u, i)
        answered = ~np.isnan(raw)
        pred = np.clip(
            np.where(answered, raw, biases.predict(u, i)), self.rating_min, self.rating_max
        )
        return (pred, answered) if with_mask else pred

    def predict(self, user_id: Any, anime_id: Any) -> float:
        """Predicted rating of one pair; unknown ids get the baseline's answer, never an error."""
        return float(self.predict_many([user_id], [anime_id])[0])

    def score_all(self, user_id: Any) -> np.ndarray:
        """Predicted rating (clipped) for every item index, for one raw user id."""
        users = self._check_fitted()[0]
        return self.score_users(np.array([users.index_of(user_id)]))[0]

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Predicted ratings (clipped) of every item for many user indices (-1: unknown user)."""
        _, _, biases = self._check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        raw = self._score_users(user_idx)
        base = biases.for_users(user_idx)
        return np.clip(np.where(np.isnan(raw), base, raw), self.rating_min, self.rating_max)

    # ----------------------------------------------------------------- ranking
    def _seen_rows(self, user_idx: np.ndarray) -> sp.csr_matrix:
        """Training interactions of user indices as rows (empty rows for -1)."""
        if self._seen is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted")
        user_idx = np.asarray(user_idx, dtype=np.int64)
        rows = self._seen[np.maximum(user_idx, 0)]
        if (user_idx < 0).any():
            rows = sp.diags((user_idx >= 0).astype(np.float32)) @ rows
            rows.eliminate_zeros()
        return sp.csr_matrix(rows)

    def _tie_break(self) -> np.ndarray:
        if self._popularity is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted")
        return self._popularity

    def _rank(
        self,
        interaction: np.ndarray | None,
        excluded: sp.csr_matrix,
        ratings_of: Callable[[np.ndarray], np.ndarray],
        all_ratings: Callable[[], np.ndarray],
        k: int,
    ) -> Ranked:
        """The two ranking stages (see ml.models.ranking); without interaction scores, by
        predicted rating (``all_ratings``: rows x items)."""
        if interaction is None:
            scores = all_ratings().astype(np.float64)
            hidden = excluded.tocoo()
            scores[hidden.row, hidden.col] = -np.inf
            items, _ = top_k_rows(scores, k)
            return items, gather_columns(scores, items)
        candidates, stage = stage_one(interaction, excluded, self._tie_break(), max(k, CANDIDATES))
        if self.like_temperature is None:  # stage one's order stands: rate the k kept alone
            return candidates[:, :k], ratings_of(candidates[:, :k])
        ratings = ratings_of(candidates)
        like = like_factor(ratings, self.rating_min, self.rating_max, self.like_temperature)
        return stage_two(candidates, stage, ratings, k, like)

    def rank_users(
        self, user_idx: np.ndarray, k: int, blocked: sp.csr_matrix | None = None
    ) -> Ranked:
        """(item indices, predicted ratings) of each user's k best items, best first, from their
        training interactions: the one ranking path behind recommend() and precomputed lists.

        Items seen in training and ``blocked`` ones (rows: user_idx, columns: item indices) are
        left out; -1 / NaN pad rows with fewer than k candidates.
        """
        self._check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        excluded = self._seen_rows(user_idx)
        if blocked is not None:
            excluded = sp.csr_matrix(excluded + blocked)
        known = user_idx >= 0
        interaction: np.ndarray | None
        if known.all():
            interaction = self._interaction_scores(user_idx)
        else:
            interaction = self._interaction_scores(np.where(known, user_idx, 0))
            if interaction is not None:
                interaction[~known] = 0.0
        return self._rank(
            interaction,
            excluded,
            lambda candidates: self._filled_ratings_at(user_idx, candidates),
            lambda: self.score_users(user_idx),
            k,
        )

    def recommend(
        self, user_id: Any, n: int = 10, exclude: Iterable[Any] | None = None
    ) -> list[tuple[Any, float]]:
        """Top-n (anime_id, predicted_rating), best first, skipping seen and excluded items."""
        users = self._check_fitted()[0]
        u = np.array([users.index_of(user_id)])
        items, ratings = self.rank_users(u, n, self._exclusion_row(exclude))
        return self._pairs(items[0], ratings[0])

    def recommend_for_ratings(
        self,
        ratings: Mapping[Any, float],
        n: int = 10,
        exclude: Iterable[Any] | None = None,
        *,
        watched: Iterable[Any] = (),
        user_id: Any = None,
    ) -> list[tuple[Any, float]]:
        """Top-n for a user known by their current {anime_id: rating} and watched anime (fold-in).

        ``user_id`` names a training user whose stored interactions these replace. Rated,
        watched and excluded anime are never recommended.
        """
        users, items, _ = self._check_fitted()
        u = users.index_of(user_id) if user_id is not None else -1
        rated, values = self._encode_ratings(ratings)
        seen = np.union1d(rated, _known(items.indices_of(list(watched))))
        row = _binary_row(seen, len(items))
        predicted = self._folded_ratings(rated, values, u)
        interaction = self._fold_in_interaction_scores(row, np.array([u]))
        excluded = row if exclude is None else sp.csr_matrix(row + self._exclusion_row(exclude))
        top, chosen = self._rank(
            interaction,
            excluded,
            lambda c: gather_columns(predicted[None, :], c),
            lambda: predicted[None, :],
            n,
        )
        return self._pairs(top[0], chosen[0])

    def predict_for_ratings(
        self, ratings: Mapping[Any, float], anime_ids: Sequence[Any], *, user_id: Any = None
    ) -> np.ndarray:
        """Predicted ratings of anime_ids for a user known by their {anime_id: rating}."""
        users, items, biases = self._check_fitted()
        u = users.index_of(user_id) if user_id is not None else -1
        rated, values = self._encode_ratings(ratings)
        predicted = self._folded_ratings(rated, values, u)
        idx = items.indices_of(list(anime_ids))
        unknown = np.clip(biases.mu + biases.fold_in_user(rated, values), *self._scale())
        return np.where(idx >= 0, predicted[np.maximum(idx, 0)], unknown)

    def _folded_ratings(self, rated: np.ndarray, values: np.ndarray, user_idx: int) -> np.ndarray:
        """Every item's predicted rating (clipped) for a folded-in user; the folded-in baseline
        mu + b_u + b_i where the model has no answer."""
        _, _, biases = self._check_fitted()
        base = biases.mu + biases.fold_in_user(rated, values) + biases.bi
        raw = self._fold_in_ratings(rated, values, user_idx)
        predicted = base if raw is None else np.where(np.isnan(raw), base, raw)
        return np.clip(predicted, *self._scale())

    def _encode_ratings(self, ratings: Mapping[Any, float]) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, ratings) of the known anime of {anime_id: rating}."""
        idx = self.items.indices_of(list(ratings.keys()))
        values = np.asarray(list(ratings.values()), dtype=np.float64)
        known = idx >= 0
        return idx[known], values[known]

    def _exclusion_row(self, exclude: Iterable[Any] | None) -> sp.csr_matrix:
        if exclude is None:
            return sp.csr_matrix((1, len(self.items)), dtype=np.float32)
        return _binary_row(_known(self.items.indices_of(list(exclude))), len(self.items))

    def _pairs(self, items: np.ndarray, ratings: np.ndarray) -> list[tuple[Any, float]]:
        found = items >= 0
        return list(
            zip(
                self.items.raws_of(items[found]),
                ratings[found].astype(float).tolist(),
                strict=True,
            )
        )

    def _scale(self) -> tuple[float, float]:
        return self.rating_min, self.rating_max

    def reasons(self, seen: np.ndarray, items: np.ndarray, k: int = REASONS) -> np.ndarray | None:
        """For each of ``items``, the (up to) k of ``seen`` that added most to its score, as
        item indices, most first, -1 padded (only positive contributions); None when the model
        cannot say."""
        seen, items = np.asarray(seen, dtype=np.int64), np.asarray(items, dtype=np.int64)
        out = np.full((len(items), k), -1, dtype=np.int64)
        valid = items >= 0
        if not len(seen) or not valid.any():
            contributions = self._contributions(seen[:0], items[:0])
            return None if contributions is None else out
        contributions = self._contributions(seen, items[valid])
        if contributions is None:
            return None
        scores = np.where(contributions > 0, contributions, -np.inf)
        best, _ = top_k_rows(scores, k)
        picked = np.where(best >= 0, seen[np.maximum(best, 0)], -1)
        out[valid, : picked.shape[1]] = picked
        return out

    def seen_indices(self, user_id: Any) -> np.ndarray:
        """Item indices the user rated or watched in training (empty for an unknown user)."""
        users = self._check_fitted()[0]
        u = users.index_of(user_id)
        if u < 0 or self._seen is None:
            return np.empty(0, dtype=np.int32)
        return self._seen.indices[self._seen.indptr[u] : self._seen.indptr[u + 1]]

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write the model into a directory: meta.json, vocab.json, base.npz + the model's state."""
        users, items, biases = self._check_fitted()
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "class": self.name,
            "format": FORMAT_VERSION,
            "params": self.get_params(),
            "rating_min": self.rating_min,
            "rating_max": self.rating_max,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=2))
        vocab = {"users": users.to_list(), "items": items.to_list()}
        (directory / VOCAB_FILE).write_text(json.dumps(vocab))
        seen = self._seen if self._seen is not None else sp.csr_matrix((len(users), len(items)))
        np.savez(
            directory / BASE_ARRAYS,
            mu=np.float64(biases.mu),
            bu=biases.bu,
            bi=biases.bi,
            seen_indptr=seen.indptr,
            seen_indices=seen.indices,
            popularity=self._tie_break(),
        )
        self._save_state(directory)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a saved model (no code is executed from the files: JSON and npz without pickle)."""
        directory = Path(path)
        meta = json.loads((directory / META_FILE).read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise NotFittedError(
                f"{directory} was saved in format {meta.get('format')}, this code reads format "
                f"{FORMAT_VERSION}: train the models again"
            )
        klass = cls._class_for(meta.get("class"))
        model = klass(**meta.get("params", {}))
        vocab = json.loads((directory / VOCAB_FILE).read_text())
        model.users = Vocabulary.from_list(vocab["users"])
        model._items = Vocabulary.from_list(vocab["items"])
        model.rating_min, model.rating_max = float(meta["rating_min"]), float(meta["rating_max"])
        with np.load(directory / BASE_ARRAYS, allow_pickle=False) as arrays:
            model._biases = Biases(float(arrays["mu"]), arrays["bu"], arrays["bi"])
            indices = arrays["seen_indices"]
            model._seen = sp.csr_matrix(
                (np.ones(len(indices), dtype=np.float32), indices, arrays["seen_indptr"]),
                shape=(len(model.users), len(model._items)),
            )
            model._popularity = arrays["popularity"]
        model._load_state(directory)
        return model

    @classmethod
    def _class_for(cls, name: Any) -> type[Self]:
        if getattr(cls, "name", None) == name:
            return cls
        from ml.models import MODEL_CLASSES  # late import: the registry imports every model

        klass = MODEL_CLASSES.get(str(name))
        if klass is None or not issubclass(klass, cls):
            raise UnknownModelError(f"cannot load a {name!r} model as {cls.__name__}")
        return klass

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def _best(scores: Mapping[Any, float]) -> Any:
    """The key with the highest score (the first such key on ties)."""
    return max(scores, key=scores.__getitem__)


def gather_columns(matrix: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix[r, columns[r, j]] with NaN where columns is -1 (broadcast over one-row matrices)."""
    safe = np.maximum(columns, 0)
    rows = (
        matrix
        if len(matrix) == len(columns)
        else np.broadcast_to(matrix, (len(columns),) + matrix.shape[1:])
    )
    values = np.take_along_axis(np.asarray(rows, dtype=np.float64), safe, axis=1)
    return np.where(columns >= 0, values, np.nan)


def _known(indices: np.ndarray) -> np.ndarray:
    return indices[indices >= 0]


def _binary_row(indices: np.ndarray, n_items: int) -> sp.csr_matrix:
    """One CSR row with 1 at ``indices`` (unique)."""
    unique = np.unique(indices).astype(np.int32)
    data = np.ones(len(unique), dtype=np.float32)
    return sp.csr_matrix((data, unique, np.array([0, len(unique)])), shape=(1, n_items))
