"""Import the Kaggle anime dataset (anime.csv, rating.csv, optional synopses) into MongoDB.

Cleaning: HTML entities in names are unescaped; 'Unknown' episodes become null; genre stays the
comma-separated string; rating -1 (watched, not rated) is not a rating and is stored as a
``watched`` entry in ``watch_history``; duplicate (user, anime) rows keep the last explicit rating;
rows whose anime is not in the catalogue are counted and skipped. Each dataset user becomes a
password-less ``mal_<id>`` user. The import writes only what differs from the database, so
re-running it changes nothing and a run that died half-way can simply be re-run.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymongo.database import Database

from app.db import anime as anime_db
from app.db import ratings as ratings_db
from app.db import users as users_db
from app.db import watch_history as history_db

log = logging.getLogger(__name__)

WATCHED_NOT_RATED = -1
SYNOPSIS_PLACEHOLDER = "No synopsis information has been added to this title"
BATCH_SIZE = 5000
ANIME_FIELDS = ("anime_id", "name", "genre", "type", "episodes", "rating", "members")

Progress = Callable[[Iterable[Any], str, int], Iterable[Any]]


@dataclass
class ImportSummary:
    anime_inserted: int = 0
    anime_updated: int = 0
    descriptions: int = 0
    users: int = 0
    ratings_read: int = 0
    ratings_inserted: int = 0
    ratings_updated: int = 0
    duplicates_resolved: int = 0
    orphans_skipped: int = 0
    invalid_skipped: int = 0
    watched_read: int = 0
    watched_inserted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _no_progress(items: Iterable[Any], _label: str, _total: int) -> Iterable[Any]:
    return items


def _none_if_missing(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def read_anime_csv(path: str | Path) -> pd.DataFrame:
    """anime.csv cleaned: unescaped names, integer or null episodes, null for missing values."""
    frame = pd.read_csv(path, dtype={"genre": "string", "type": "string", "episodes": "string"})
    frame["name"] = frame["name"].astype(str).map(html.unescape)
    episodes = pd.to_numeric(frame["episodes"], errors="coerce")
    frame["episodes"] = episodes.astype("Int64")
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce")
    frame["members"] = pd.to_numeric(frame["members"], errors="coerce").fillna(0).astype("int64")
    return frame.drop_duplicates("anime_id", keep="last")[list(ANIME_FIELDS)]


def read_ratings_csv(path: str | Path) -> pd.DataFrame:
    """rating.csv as int columns user_id, anime_id, rating (-1 kept: it means watched)."""
    frame = pd.read_csv(path, usecols=["user_id", "anime_id", "rating"])
    return frame.dropna().astype({"user_id": "int64", "anime_id": "int64", "rating": "int64"})


def read_synopses_csv(path: str | Path) -> dict[int, str]:
    """MAL_ID -> synopsis from anime_with_synopsis.csv, without the 'no synopsis' placeholder."""
    frame = pd.read_csv(path)
    text_column = "sypnopsis" if "sypnopsis" in frame.columns else "synopsis"
    frame = frame.dropna(subset=[text_column])
    frame = frame[~frame[text_column].str.startswith(SYNOPSIS_PLACEHOLDER)]
    texts = frame[text_column].astype(str).str.strip()
    return {int(i): text for i, text in zip(frame["MAL_ID"], texts, strict=True) if text}


def _anime_documents(frame: pd.DataFrame, synopses: dict[int, str]) -> list[dict[str, Any]]:
    documents = []
    for record in frame.to_dict("records"):
        doc = {field: _none_if_missing(record[field]) for field in ANIME_FIELDS}
        doc["anime_id"] = int(doc["anime_id"])
        doc["members"] = int(doc["members"])
        doc["episodes"] = None if pd.isna(record["episodes"]) else int(record["episodes"])
        if doc["rating"] is not None:
            doc["rating"] = float(doc["rating"])
        if doc["anime_id"] in synopses:
            doc["description"] = synopses[doc["anime_id"]]
        documents.append(doc)
    return documents


def _import_anime(
    db: Database, frame: pd.DataFrame, synopses: dict[int, str], summary: ImportSummary
) -> None:
    stored = anime_db.find_all_for_comparison(db)
    new_docs, changes = [], {}
    for doc in _anime_documents(frame, synopses):
        current = stored.get(doc["anime_id"])
        if current is None:
            new_docs.append({**doc, "description": doc.get("description")})
            continue
        changed = {key: value for key, value in doc.items() if current.get(key) != value}
        if changed:
            changes[doc["anime_id"]] = changed
    summary.anime_inserted = anime_db.insert_many(db, new_docs)
    summary.anime_updated = anime_db.update_fields(db, changes)
    summary.descriptions = sum(1 for doc in new_docs if doc["description"]) + sum(
        1 for fields in changes.values() if "description" in fields
    )


def _split_ratings(
    frame: pd.DataFrame, catalogue: set[int], summary: ImportSummary
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(explicit ratings, watched-not-rated) after dropping orphans, invalid rows and duplicates."""
    in_catalogue = frame["anime_id"].isin(list(catalogue))
    summary.orphans_skipped = int((~in_catalogue).sum())
    frame = frame[in_catalogue]
    explicit_mask = frame["rating"].between(1, 10)
    watched_mask = frame["rating"] == WATCHED_NOT_RATED
    summary.invalid_skipped = int((~explicit_mask & ~watched_mask).sum())
    explicit = frame[explicit_mask]
    deduplicated = explicit.drop_duplicates(["user_id", "anime_id"], keep="last")
    summary.duplicates_resolved = len(explicit) - len(deduplicated)
    rated_pairs = pd.MultiIndex.from_frame(deduplicated[["user_id", "anime_id"]])
    watched = frame[watched_mask].drop_duplicates(["user_id", "anime_id"])
    watched_pairs = pd.MultiIndex.from_frame(watched[["user_id", "anime_id"]])
    watched = watched[~watched_pairs.isin(rated_pairs)]
    summary.ratings_read = len(deduplicated)
    summary.watched_read = len(watched)
    return deduplicated, watched


def _batches(rows: list[Any], size: int = BATCH_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _import_ratings(
    db: Database,
    explicit: pd.DataFrame,
    watched: pd.DataFrame,
    user_map: dict[int, Any],
    summary: ImportSummary,
    progress: Progress,
) -> None:
    now = datetime.now(UTC)
    existing = ratings_db.find_pairs_for_users(db, list(user_map.values()))
    new_docs, changes, changed_users = [], [], []
    for user, anime_id, rating in explicit.itertuples(index=False, name=None):
        key = (user_map[int(user)], int(anime_id))
        stored = existing.get(key)
        if stored is None:
            new_docs.append(
                {
                    "user_id": key[0],
                    "anime_id": key[1],
                    "rating": int(rating),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            changed_users.append(key[0])
        elif stored[1] != int(rating):
            changes.append((stored[0], int(rating)))
            changed_users.append(key[0])
    batches = list(_batches(new_docs))
    for batch in progress(batches, "ratings", len(batches)):
        summary.ratings_inserted += ratings_db.insert_many(db, batch)
    summary.ratings_updated = ratings_db.set_ratings(db, changes)
    users_db.mark_ratings_changed(db, changed_users)

    seen = history_db.find_watched_pairs(db, list(user_map.values()))
    entries = [
        {
            "user_id": user_map[int(user)],
            "anime_id": int(anime_id),
            "action": history_db.WATCHED,
            "rating": None,
            "created_at": now,
        }
        for user, anime_id in watched[["user_id", "anime_id"]].itertuples(index=False, name=None)
        if (user_map[int(user)], int(anime_id)) not in seen
    ]
    batches = list(_batches(entries))
    for batch in progress(batches, "watch history", len(batches)):
        summary.watched_inserted += history_db.insert_many(db, batch)


def import_dataset(
    db: Database,
    anime: pd.DataFrame,
    ratings: pd.DataFrame,
    *,
    synopses: dict[int, str] | None = None,
    progress: Progress = _no_progress,
) -> ImportSummary:
    """Bring the database in line with the given dataset; return what was read and written."""
    summary = ImportSummary()
    _import_anime(db, anime, synopses or {}, summary)
    catalogue = set(anime["anime_id"].astype(int))
    explicit, watched = _split_ratings(ratings, catalogue, summary)
    dataset_users = pd.concat([explicit["user_id"], watched["user_id"]]).unique()
    user_map = users_db.upsert_imported(db, (int(user) for user in dataset_users))
    summary.users = len(user_map)
    _import_ratings(db, explicit, watched, user_map, summary, progress)
    log.info("import finished: %s", summary.as_dict())
    return summary
