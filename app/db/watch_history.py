"""Queries on the ``watch_history`` collection: each user's recorded activity."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import DESCENDING
from pymongo.database import Database

from app.db.common import count, indexed_id_filter

WATCHED = "watched"
RATED = "rated"
RE_RATED = "re-rated"
RATING_DELETED = "rating_deleted"
LISTED = "listed"
STATUS_CHANGED = "status_changed"
UNLISTED = "unlisted"
ACTIONS = (WATCHED, RATED, RE_RATED, RATING_DELETED, LISTED, STATUS_CHANGED, UNLISTED)


def find_watched_pairs(
    db: Database, user_ids: list[ObjectId], chunk_size: int = 500
) -> set[tuple[ObjectId, int]]:
    """(user_id, anime_id) of every watched-not-rated entry of the given users."""
    pairs: set[tuple[ObjectId, int]] = set()
    for start in range(0, len(user_ids), chunk_size):
        cursor = db.watch_history.find(
            {"user_id": {"$in": user_ids[start : start + chunk_size]}, "action": WATCHED},
            {"_id": 0, "user_id": 1, "anime_id": 1},
        )
        pairs.update((doc["user_id"], int(doc["anime_id"])) for doc in cursor)
    return pairs


def watched_by_user(db: Database, user_id: ObjectId) -> set[int]:
    """anime_id of every watched-not-rated entry of one user, in one indexed query."""
    query = {**indexed_id_filter(db, "user_id", user_id), "action": WATCHED}
    return {int(doc["anime_id"]) for doc in db.watch_history.find(query, {"_id": 0, "anime_id": 1})}


def insert_many(db: Database, entries: list[dict[str, Any]]) -> int:
    """Insert history entries in one batch; return how many were inserted."""
    if not entries:
        return 0
    return len(db.watch_history.insert_many(entries, ordered=False).inserted_ids)


def insert(db: Database, entry: dict[str, Any]) -> ObjectId:
    return db.watch_history.insert_one(entry).inserted_id


def find_by_user(db: Database, user_id: ObjectId, *, skip: int, limit: int) -> list[dict[str, Any]]:
    """One page of a user's history, newest first (``user_recent``; ``user_id.id`` on nx-27017)."""
    cursor = db.watch_history.find(indexed_id_filter(db, "user_id", user_id)).sort(
        [("created_at", DESCENDING), ("_id", DESCENDING)]
    )
    return list(cursor.skip(skip).limit(limit))


def count_by_user(db: Database, user_id: ObjectId) -> int:
    return count(db.watch_history, indexed_id_filter(db, "user_id", user_id))
