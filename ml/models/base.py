"""Recommender ABC: id mapping, baseline fallback, clipping, recommend and persistence.

Subclasses implement `_fit(data, validation)` and `_score(user_idx, item_idx)` (NaN where the
model has no answer, e.g. no neighbours); the base turns NaN and unknown ids into the baseline's
answer (mu + b_u + b_i), clips to the data's rating scale and maps raw ids in and out.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.data import RatingsData, Vocabulary
from ml.exceptions import NotFittedError, UnknownModelError
from ml.models.biases import Biases, fit_biases
from ml.models.ranking import top_k_rows

META_FILE = "meta.json"
VOCAB_FILE = "vocab.json"
BASE_ARRAYS = "base.npz"
FORMAT_VERSION = 1


class Recommender(ABC):
    """Template for every model: fit / predict / predict_many / recommend / save / load."""

    name: ClassVar[str]
    #: True when `_score` also receives pairs whose user or item is unknown (index -1).
    answers_unknown: ClassVar[bool] = False
    _score_chunk: ClassVar[int] = 262_144

    def __init__(self) -> None:
        self.users: Vocabulary | None = None
        self._items: Vocabulary | None = None
        self.rating_min = 0.0
        self.rating_max = 0.0
        self._biases: Biases | None = None
        self._rated: sp.csr_matrix | None = None

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

    def _save_state(self, path: Path) -> None:  # noqa: B027 - optional hook
        """Write the learned state into the model directory (npz/JSON/state_dict only)."""

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

    # ----------------------------------------------------------------- fitting
    def fit(
        self, ratings: pd.DataFrame | RatingsData, validation: pd.DataFrame | None = None
    ) -> Self:
        """Fit on a ratings DataFrame (user_id, anime_id, rating); validation is optional."""
        data = ratings if isinstance(ratings, RatingsData) else RatingsData.from_dataframe(ratings)
        self.users, self._items = data.users, data.items
        self.rating_min, self.rating_max = data.rating_min, data.rating_max
        self._biases = fit_biases(data)
        self._rated = data.csr(np.ones(data.n_ratings, dtype=np.float32))
        self._fit(data, validation)
        return self

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
        users, _, biases = self._check_fitted()
        u = users.index_of(user_id)
        raw = self._score_user(u)
        return np.clip(
            np.where(np.isnan(raw), biases.for_user(u), raw), self.rating_min, self.rating_max
        )

    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """`score_all` of many user indices at once: len x n_items, clipped (-1: unknown user)."""
        _, _, biases = self._check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        raw = self._score_users(user_idx)
        base = biases.for_users(user_idx)
        return np.clip(np.where(np.isnan(raw), base, raw), self.rating_min, self.rating_max)

    def top_n_indices(
        self, user_idx: np.ndarray, k: int, blocked: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, scores) of each user's k best items not rated in training, best first.

        Ties go to the lower item index; -1 / NaN pad rows with fewer than k candidates.
        ``blocked`` (rows: user_idx, columns: item indices) leaves out more items.
        """
        self._check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        scores = self.score_users(user_idx).astype(np.float64)
        if self._rated is not None:
            rated = self._rated[np.maximum(user_idx, 0)].tocoo()
            known = user_idx[rated.row] >= 0
            scores[rated.row[known], rated.col[known]] = -np.inf
        if blocked is not None:
            extra = blocked.tocoo()
            scores[extra.row, extra.col] = -np.inf
        return top_k_rows(scores, k)

    def rated_indices(self, user_id: Any) -> np.ndarray:
        """Item indices the user rated in training (empty for an unknown user)."""
        users = self._check_fitted()[0]
        u = users.index_of(user_id)
        if u < 0 or self._rated is None:
            return np.empty(0, dtype=np.int32)
        return self._rated.indices[self._rated.indptr[u] : self._rated.indptr[u + 1]]

    def recommend(
        self, user_id: Any, n: int = 10, exclude: Iterable[Any] | None = None
    ) -> list[tuple[Any, float]]:
        """Top-n (anime_id, predicted_rating), best first, skipping rated and excluded items."""
        return self._top_n(self.score_all(user_id), self.rated_indices(user_id), n, exclude)

    def _top_n(
        self, scores: np.ndarray, blocked_idx: np.ndarray, n: int, exclude: Iterable[Any] | None
    ) -> list[tuple[Any, float]]:
        items = self.items
        allowed = np.ones(len(items), dtype=bool)
        allowed[blocked_idx] = False
        if exclude is not None:
            excluded = items.indices_of(list(exclude))
            allowed[excluded[excluded >= 0]] = False
        candidates = np.flatnonzero(allowed)
        n = min(int(n), len(candidates))
        if n <= 0:
            return []
        cand_scores = scores[candidates]
        if n < len(candidates):
            keep = np.argpartition(-cand_scores, n - 1)[:n]
            candidates, cand_scores = candidates[keep], cand_scores[keep]
        order = np.lexsort((candidates, -cand_scores))
        return list(
            zip(
                items.raws_of(candidates[order]),
                cand_scores[order].astype(float).tolist(),
                strict=True,
            )
        )

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
        rated = self._rated if self._rated is not None else sp.csr_matrix((len(users), len(items)))
        np.savez(
            directory / BASE_ARRAYS,
            mu=np.float64(biases.mu),
            bu=biases.bu,
            bi=biases.bi,
            rated_indptr=rated.indptr,
            rated_indices=rated.indices,
        )
        self._save_state(directory)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a saved model (no code is executed from the files: JSON and npz without pickle)."""
        directory = Path(path)
        meta = json.loads((directory / META_FILE).read_text())
        klass = cls._class_for(meta.get("class"))
        model = klass(**meta.get("params", {}))
        vocab = json.loads((directory / VOCAB_FILE).read_text())
        model.users = Vocabulary.from_list(vocab["users"])
        model._items = Vocabulary.from_list(vocab["items"])
        model.rating_min, model.rating_max = float(meta["rating_min"]), float(meta["rating_max"])
        with np.load(directory / BASE_ARRAYS, allow_pickle=False) as arrays:
            model._biases = Biases(float(arrays["mu"]), arrays["bu"], arrays["bi"])
            indices = arrays["rated_indices"]
            model._rated = sp.csr_matrix(
                (np.ones(len(indices), dtype=np.float32), indices, arrays["rated_indptr"]),
                shape=(len(model.users), len(model._items)),
            )
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
