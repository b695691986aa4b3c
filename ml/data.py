"""Ratings at the data boundary: raw ids <-> contiguous indices, arrays and sparse matrices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.exceptions import DataError

RATING_COLUMNS = ("user_id", "anime_id", "rating")
#: The rating value of a watched-but-not-rated row (the anime dataset's convention).
WATCHED = -1
#: List statuses that count as interactions, like a watched entry; a title with another status
#: (dropped, not interested) is only left out of the user's recommendations.
INTERACTION_STATUSES = ("watching", "completed", "on_hold", "plan_to_watch")


def _to_python(value: Any) -> Any:
    """A numpy scalar as the equivalent Python value (JSON-friendly); other values unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _as_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-d array of ids; mixed types stay objects instead of being coerced to strings."""
    array = np.asarray(values)
    if array.dtype.kind in "USa" and not all(isinstance(v, str) for v in values):
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    return array


class Vocabulary:
    """Raw ids (ints from a CSV, ObjectId strings from MongoDB) <-> contiguous indices 0..n-1."""

    def __init__(self, raw_ids: Iterable[Any] | np.ndarray) -> None:
        values = raw_ids if isinstance(raw_ids, np.ndarray | pd.Series) else list(raw_ids)
        unique = pd.unique(pd.Series(values, dtype=None if len(values) else object))
        self._index = pd.Index(unique)
        self.raw: np.ndarray = np.asarray(unique)
        self._lookup: dict[Any, int] | None = None  # built on the first index_of

    def _dict(self) -> dict[Any, int]:
        if self._lookup is None:
            self._lookup = {_to_python(v): i for i, v in enumerate(self.raw)}
        return self._lookup

    def __len__(self) -> int:
        return len(self.raw)

    def __contains__(self, raw: Any) -> bool:
        return self.index_of(raw) >= 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_list() == other.to_list()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Vocabulary(n={len(self)})"

    def index_of(self, raw: Any) -> int:
        """Index of one raw id, -1 when unknown."""
        try:
            return self._dict().get(_to_python(raw), -1)
        except TypeError:  # unhashable input is simply unknown
            return -1

    def indices_of(self, raw_ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Indices (int64) of many raw ids, -1 where unknown (vectorised)."""
        values = raw_ids if isinstance(raw_ids, np.ndarray) else _as_array(raw_ids)
        if values.size == 0:
            return np.empty(0, dtype=np.int64)
        try:
            return np.asarray(self._index.get_indexer(values), dtype=np.int64)
        except (TypeError, ValueError):
            return np.fromiter((self.index_of(v) for v in values), np.int64, len(values))

    def raw_of(self, index: int) -> Any:
        """The raw id at an index, as a plain Python value."""
        return _to_python(self.raw[index])

    def raws_of(self, indices: np.ndarray) -> list[Any]:
        """Raw ids at many indices, as plain Python values."""
        return list(self.raw[np.asarray(indices, dtype=np.int64)].tolist())

    def to_list(self) -> list[Any]:
        """The raw ids in index order, JSON-serialisable."""
        return list(self.raw.tolist())

    @classmethod
    def from_list(cls, raw_ids: list[Any]) -> Vocabulary:
        """Inverse of to_list()."""
        return cls(raw_ids)


@dataclass(frozen=True)
class TrainingData:
    """What a training run learns from, as read from a source.

    ``ratings``: user_id, anime_id, rating (-1: watched, not rated); ``excluded``: user_id,
    anime_id pairs the precomputed lists leave out (None: none); ``read_at``: when the source
    was read, on the clock that stamps the users' changes (None: unknown).
    """

    ratings: pd.DataFrame
    excluded: pd.DataFrame | None = None
    read_at: datetime | None = None


def _no_pairs() -> np.ndarray:
    return np.empty(0, dtype=np.int32)


@dataclass
class RatingsData:
    """Explicit ratings as index arrays plus the vocabularies and the rating scale.

    ``watched_*`` are the (user, item) pairs watched but not rated (rating -1 in the input): they
    are interactions for ranking, never ratings. The vocabularies cover both.
    """

    users: Vocabulary
    items: Vocabulary
    user_idx: np.ndarray
    item_idx: np.ndarray
    rating: np.ndarray
    rating_min: float
    rating_max: float
    watched_user_idx: np.ndarray = field(default_factory=_no_pairs)
    watched_item_idx: np.ndarray = field(default_factory=_no_pairs)
    #: (indptr, indices, order of the ratings) of the users x items CSR, built on first use.
    _csr_layout: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _interactions: sp.csr_matrix | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        rating_scale: tuple[float, float] | None = None,
    ) -> RatingsData:
        """Build from a DataFrame with user_id, anime_id, rating (last duplicate pair wins).

        Rows with a negative rating (-1: watched, not rated) become watched pairs, except where
        the same pair has a rating. The rating scale is taken from the explicit ratings unless
        rating_scale is given.
        """
        missing = [c for c in RATING_COLUMNS if c not in df.columns]
        if missing:
            raise DataError(f"ratings are missing columns: {', '.join(missing)}")
        frame = df.loc[:, list(RATING_COLUMNS)].dropna()
        explicit = frame["rating"].to_numpy() >= 0
        watched, frame = frame.loc[~explicit], frame.loc[explicit]
        if frame.empty:
            raise DataError("no ratings to learn from")
        user_codes, user_uniques = pd.factorize(frame["user_id"], sort=False)
        item_codes, item_uniques = pd.factorize(frame["anime_id"], sort=False)
        pairs = user_codes.astype(np.int64) * len(item_uniques) + item_codes
        if len(pd.unique(pairs)) < len(pairs):  # repeated pairs: keep the last, index again
            frame = frame.drop_duplicates(subset=["user_id", "anime_id"], keep="last")
            user_codes, user_uniques = pd.factorize(frame["user_id"], sort=False)
            item_codes, item_uniques = pd.factorize(frame["anime_id"], sort=False)
        rating = frame["rating"].to_numpy(dtype=np.float32)
        low, high = rating_scale or (float(rating.min()), float(rating.max()))
        if high <= low:
            high = low + 1.0
        users, items = np.asarray(user_uniques), np.asarray(item_uniques)
        watched_users, watched_items = _watched_pairs(watched, frame)
        if len(watched_users):
            users = pd.unique(np.concatenate([users, watched_users.to_numpy()]))
            items = pd.unique(np.concatenate([items, watched_items.to_numpy()]))
        user_vocab, item_vocab = Vocabulary(np.asarray(users)), Vocabulary(np.asarray(items))
        return cls(
            users=user_vocab,
            items=item_vocab,
            user_idx=user_codes.astype(np.int32),
            item_idx=item_codes.astype(np.int32),
            rating=rating,
            rating_min=float(low),
            rating_max=float(high),
            watched_user_idx=user_vocab.indices_of(watched_users.to_numpy()).astype(np.int32),
            watched_item_idx=item_vocab.indices_of(watched_items.to_numpy()).astype(np.int32),
        )

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_ratings(self) -> int:
        return len(self.rating)

    @property
    def global_mean(self) -> float:
        return float(self.rating.mean(dtype=np.float64))

    def csr(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """Users x items CSR matrix (float32) of the ratings, or of `values` aligned with them."""
        data = (self.rating if values is None else values).astype(np.float32, copy=False)
        shape = (self.n_users, self.n_items)
        if self._csr_layout is None:
            position = np.arange(1, self.n_ratings + 1, dtype=np.float64)
            layout = sp.csr_matrix((position, (self.user_idx, self.item_idx)), shape=shape)
            if layout.nnz < self.n_ratings:  # repeated pairs are summed: no reusable layout
                return sp.csr_matrix((data, (self.user_idx, self.item_idx)), shape=shape)
            order = layout.data.astype(np.int64) - 1
            self._csr_layout = (layout.indptr, layout.indices, order)
        indptr, indices, order = self._csr_layout
        return sp.csr_matrix((data[order], indices.copy(), indptr.copy()), shape=shape)

    @property
    def n_watched(self) -> int:
        return len(self.watched_user_idx)

    def interactions(self) -> sp.csr_matrix:
        """Users x items binary CSR (float32) of every rated or watched pair, built once."""
        if self._interactions is None:
            rows = np.concatenate([self.user_idx, self.watched_user_idx])
            cols = np.concatenate([self.item_idx, self.watched_item_idx])
            matrix = sp.csr_matrix(
                (np.ones(len(rows), dtype=np.float32), (rows, cols)),
                shape=(self.n_users, self.n_items),
            )
            matrix.sum_duplicates()
            matrix.data[:] = 1.0
            self._interactions = matrix
        return self._interactions

    def to_frame(self) -> pd.DataFrame:
        """Back to a (user_id, anime_id, rating) DataFrame with raw ids; watched rows rated -1."""
        users = np.concatenate([self.user_idx, self.watched_user_idx])
        items = np.concatenate([self.item_idx, self.watched_item_idx])
        watched = np.full(self.n_watched, WATCHED, dtype=np.float32)
        return pd.DataFrame(
            {
                "user_id": self.users.raw[users],
                "anime_id": self.items.raw[items],
                "rating": np.concatenate([self.rating, watched]),
            }
        )

    def user_counts(self) -> np.ndarray:
        """Number of ratings per user index."""
        return np.bincount(self.user_idx, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Number of ratings per item index."""
        return np.bincount(self.item_idx, minlength=self.n_items)

    def user_means(self) -> np.ndarray:
        """Mean rating per user index (float64)."""
        sums = np.bincount(self.user_idx, weights=self.rating, minlength=self.n_users)
        return sums / np.maximum(self.user_counts(), 1)

    def summary(self) -> dict[str, Any]:
        """Counts and scale, JSON-serialisable (for manifests and reports)."""
        return {
            "n_ratings": self.n_ratings,
            "n_watched": self.n_watched,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "rating_min": self.rating_min,
            "rating_max": self.rating_max,
            "global_mean": self.global_mean,
        }


def _watched_pairs(watched: pd.DataFrame, rated: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(user ids, anime ids) of the watched rows whose pair has no rating, without repeats."""
    if watched.empty:
        empty = pd.Series([], dtype=object)
        return empty, empty
    pairs = watched.loc[:, ["user_id", "anime_id"]].drop_duplicates()
    keys = pd.MultiIndex.from_frame(pairs)
    rated_keys = pd.MultiIndex.from_frame(rated.loc[:, ["user_id", "anime_id"]])
    pairs = pairs.loc[~keys.isin(rated_keys)]
    return pairs["user_id"], pairs["anime_id"]
