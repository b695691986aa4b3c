"""Precomputed top-N lists: every training user's list per served model, beside the version.

Layout, under ``MODELS_DIR/versions/<version>/serving/`` (written into a temporary directory and
renamed into place, so a reader sees all of it or none of it)::

    users.npy                 the users' raw ids as strings, one row each
    <model>.items.npy         (n_users, k) anime ids, best first, -1 where a list is shorter
    <model>.ratings.npy       (n_users, k) float32 predicted ratings of those anime
    <model>.because.npy       (n_users, k, 3) int32 anime ids of the user's own titles that added
                              most to each one's score, -1 padded (models that can say why)
    meta.json                 {"k", "ratings_as_of"}: the lists leave out every rating and
                              watched entry the data held at ratings_as_of (ISO 8601, UTC)

Each list is ``Recommender.rank_users``: the very list ``recommend(user_id, n)`` returns, minus
the snapshot's interactions the model was not trained on (its test and validation rows).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.data import Vocabulary

if TYPE_CHECKING:  # the serving side reads lists without importing the models (torch)
    from ml.models.base import Recommender

log = logging.getLogger(__name__)

TOP_N_DIR = "serving"
USERS_FILE = "users.npy"
META_FILE = "meta.json"
TOP_N_SIZE = 100
TOP_N_BATCH = 256
REASONS = 3
#: Models ranked at once (numpy, scipy and torch release the GIL: both cores work).
TOP_N_THREADS = 2

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class TopN:
    """One model's precomputed best-first (anime_id, predicted rating) lists."""

    user_rows: Mapping[str, int]
    items: np.ndarray
    ratings: np.ndarray
    #: The lists leave out every interaction the data held at this time (None: only the
    #: interactions the model was fitted on).
    ratings_as_of: datetime | None = None
    #: Per list entry, the anime ids of its reasons (None: the model cannot say why).
    because: np.ndarray | None = None

    def for_user(self, user_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """(anime ids, predicted ratings, reasons or None) of one user's list, if listed."""
        row = self.user_rows.get(user_id)
        if row is None:
            return None
        return (
            self.items[row],
            self.ratings[row],
            None if self.because is None else self.because[row],
        )


def top_n_dir(models_dir: str | os.PathLike[str], version: str) -> Path:
    return Path(models_dir) / "versions" / version / TOP_N_DIR


@dataclass(frozen=True)
class RankedLists:
    """Every user's list of one model: anime ids, ratings and reasons (see the layout)."""

    items: np.ndarray
    ratings: np.ndarray
    because: np.ndarray | None


def rank_everyone(
    model: Recommender,
    users: Sequence[Any],
    k: int,
    blocked: sp.csr_matrix | None = None,
    *,
    batch_size: int = TOP_N_BATCH,
) -> RankedLists:
    """Each user's k-list (``rank_users``), -1/NaN padded, with its reasons.

    ``blocked`` (rows: ``users``, columns: the model's item indices) leaves out more items than
    the ones the model was fitted on. Reasons come from the user's training interactions.
    """
    k = min(k, len(model.items))
    items_out = np.full((len(users), k), -1, dtype=np.int64)
    ratings_out = np.full((len(users), k), np.nan, dtype=np.float32)
    because: np.ndarray | None = np.full((len(users), k, REASONS), -1, dtype=np.int32)
    raw_items = np.asarray(model.items.raw, dtype=np.int64)
    vocabulary = model.users
    if vocabulary is None:
        raise ValueError("the model is not fitted")
    user_idx = vocabulary.indices_of(np.asarray(users, dtype=object))
    for start in range(0, len(users), batch_size):
        rows = slice(start, start + batch_size)
        extra = None if blocked is None else blocked[rows]
        best, ratings = model.rank_users(user_idx[rows], k, extra)
        items_out[rows] = np.where(best >= 0, raw_items[np.maximum(best, 0)], -1)
        ratings_out[rows] = ratings
        if because is not None:
            for offset, user in enumerate(user_idx[rows].tolist()):
                seen = model.seen_indices(vocabulary.raw_of(user))
                found = model.reasons(seen, best[offset], REASONS)
                if found is None:
                    because = None
                    break
                because[start + offset] = np.where(found >= 0, raw_items[found], -1)
    return RankedLists(items_out, ratings_out, because)


def snapshot_matrix(
    model: Recommender, users: Sequence[Any], snapshot: pd.DataFrame
) -> sp.csr_matrix:
    """users x the model's items, 1 where the snapshot holds a rating or a watched entry."""
    rows = Vocabulary(users).indices_of(snapshot["user_id"].astype(str).to_numpy())
    cols = model.items.indices_of(snapshot["anime_id"].to_numpy())
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
        shape=(len(users), len(model.items)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def write_top_n(
    models_dir: str | os.PathLike[str],
    version: str,
    models: Mapping[str, Recommender],
    *,
    snapshot: pd.DataFrame | None = None,
    ratings_as_of: datetime | None = None,
    k: int = TOP_N_SIZE,
    progress: Progress | None = None,
) -> list[str]:
    """Write every training user's list of each model (trained on the same users as the first).

    ``snapshot`` (the interactions the run read, at ``ratings_as_of``) is left out of the lists
    as well as the models' own training rows. Returns the models written.
    """
    final = top_n_dir(models_dir, version)
    temp = final.with_name(final.name + f".tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    users: list[str] | None = None
    jobs: list[tuple[str, Recommender, sp.csr_matrix | None]] = []
    blocked, blocked_items = None, None  # the snapshot matrix, built once per item vocabulary
    for name, model in models.items():
        trained_on = [str(user) for user in model.users.to_list()] if model.users else []
        if users is None:
            users = trained_on
            np.save(temp / USERS_FILE, np.asarray(users))
        elif trained_on != users:
            log.warning("%s was trained on other users; no top-N for it", name)
            continue
        same_items = blocked_items is not None and np.array_equal(blocked_items, model.items.raw)
        if snapshot is not None and not same_items:
            blocked, blocked_items = snapshot_matrix(model, users, snapshot), model.items.raw
        jobs.append((name, model, blocked))
    done: list[str] = []

    def rank_and_save(name: str, model: Recommender, blocked: sp.csr_matrix | None) -> None:
        if progress is not None:
            progress(f"precomputing top-{k} for {name}", len(done) / max(len(jobs), 1))
        started = time.perf_counter()
        lists = rank_everyone(model, model.users.to_list() if model.users else [], k, blocked)
        log.info("%s: %d lists in %.1f s", name, len(lists.items), time.perf_counter() - started)
        np.save(temp / f"{name}.items.npy", lists.items)
        np.save(temp / f"{name}.ratings.npy", lists.ratings)
        if lists.because is not None:
            np.save(temp / f"{name}.because.npy", lists.because)
        done.append(name)

    with ThreadPoolExecutor(max_workers=TOP_N_THREADS, thread_name_prefix="top-n") as pool:
        # Last first: the hybrid comes last in training order and, blending the others, costs most.
        for future in [pool.submit(rank_and_save, *job) for job in reversed(jobs)]:
            future.result()
    meta: dict[str, Any] = {"k": k, "ratings_as_of": None}
    if snapshot is not None and ratings_as_of is not None:
        # Stored dates have millisecond precision: a stamp in the same millisecond counts as later.
        as_of = ratings_as_of.astimezone(UTC)
        meta["ratings_as_of"] = as_of.replace(microsecond=as_of.microsecond // 1000 * 1000)
    (temp / META_FILE).write_text(json.dumps(meta, default=_iso))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(temp, final)
    return [name for name, _, _ in jobs]


def read_ratings_as_of(directory: Path) -> datetime | None:
    """The snapshot time the lists in ``directory`` exclude, if recorded (None if unreadable)."""
    try:
        meta = json.loads((directory / META_FILE).read_text())
        value = meta.get("ratings_as_of") if isinstance(meta, dict) else None
        if not isinstance(value, str):
            return None
        stamp = datetime.fromisoformat(value)
    except (OSError, ValueError) as error:
        log.warning("unreadable top-N meta in %s: %s", directory, error)
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def load_top_n(directory: Path, names: Sequence[str]) -> dict[str, TopN]:
    """Memory-mapped lists (shared between workers by the page cache) for ``names``."""
    if not (directory / USERS_FILE).exists():
        return {}
    users = np.load(directory / USERS_FILE, allow_pickle=False)
    rows = {str(user): row for row, user in enumerate(users.tolist())}
    as_of = read_ratings_as_of(directory)
    found: dict[str, TopN] = {}
    for name in names:
        paths = [directory / f"{name}.{part}.npy" for part in ("items", "ratings", "because")]
        if paths[0].exists() and paths[1].exists():
            because = paths[2].exists()
            found[name] = TopN(
                rows,
                np.load(paths[0], mmap_mode="r", allow_pickle=False),
                np.load(paths[1], mmap_mode="r", allow_pickle=False),
                as_of,
                np.load(paths[2], mmap_mode="r", allow_pickle=False) if because else None,
            )
    return found


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
