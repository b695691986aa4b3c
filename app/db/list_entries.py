"""Queries on the ``list_entries`` collection: each user's list, one status per user and anime."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.database import Database

from app.db.common import count, indexed_id_filter

WATCHING = "watching"
COMPLETED = "completed"
ON_HOLD = "on_hold"
DROPPED = "dropped"
PLAN_TO_WATCH = "plan_to_watch"
NOT_INTERESTED = "not_interested"
STATUSES = (WATCHING, COMPLETED, ON_HOLD, DROPPED, PLAN_TO_WATCH, NOT_INTERESTED)


def count_entries(db: Database, query: dict[str, Any] | None = None) -> int:
    return count(db.list_entries, query)


def insert(db: Database, document: dict[str, Any]) -> ObjectId:
    """Insert one entry; a second one for the same user and anime raises DuplicateKeyError."""
    return db.list_entries.insert_one(document).inserted_id


def insert_many(db: Database, documents: list[dict[str, Any]]) -> int:
    """Insert new entries in one batch; return how many were inserted."""
    if not documents:
        return 0
    return len(db.list_entries.insert_many(documents, ordered=False).inserted_ids)


def find_for_user(db: Database, user_id: ObjectId, anime_id: int) -> dict[str, Any] | None:
    """The user's entry for one anime, through the user's index, or None."""
    return db.list_entries.find_one(
        {**indexed_id_filter(db, "user_id", user_id), "anime_id": anime_id}
    )


def find_by_id(db: Database, entry_id: ObjectId) -> dict[str, Any] | None:
    return db.list_entries.find_one({"_id": entry_id})


def set_status(db: Database, entry_id: ObjectId, status: str) -> dict[str, Any] | None:
    """Change one entry's status; return the entry as it was before, or None when it is gone.

    Updated by ``_id`` (the embedded server scans for an update filtered on ``user_id.id``);
    ``updated_at`` comes from ``$currentDate``, a real date on every backend.
    """
    return db.list_entries.find_one_and_update(
        {"_id": entry_id},
        {"$set": {"status": status}, "$currentDate": {"updated_at": True}},
        return_document=ReturnDocument.BEFORE,
    )


def set_statuses(db: Database, changes: list[tuple[ObjectId, str]]) -> int:
    """Set (entry id, status) on existing entries in one batch; return how many changed."""
    if not changes:
        return 0
    operations = [
        UpdateOne(
            {"_id": entry_id},
            {"$set": {"status": status}, "$currentDate": {"updated_at": True}},
        )
        for entry_id, status in changes
    ]
    return db.list_entries.bulk_write(operations, ordered=False).modified_count


def delete_by_id(db: Database, entry_id: ObjectId) -> dict[str, Any] | None:
    """Delete one entry; return it, or None when it was already gone."""
    return db.list_entries.find_one_and_delete({"_id": entry_id})


def _user_filter(db: Database, user_id: ObjectId, status: str | None) -> dict[str, Any]:
    query = indexed_id_filter(db, "user_id", user_id)
    return {**query, "status": status} if status else query


def find_by_user(
    db: Database, user_id: ObjectId, *, status: str | None, skip: int, limit: int
) -> list[dict[str, Any]]:
    """One page of a user's entries (of one status, when given), most recently changed first."""
    cursor = db.list_entries.find(_user_filter(db, user_id, status)).sort(
        [("updated_at", DESCENDING), ("_id", DESCENDING)]
    )
    return list(cursor.skip(skip).limit(limit))


def count_by_user(db: Database, user_id: ObjectId, *, status: str | None) -> int:
    return count(db.list_entries, _user_filter(db, user_id, status))


def entries_for_user(db: Database, user_id: ObjectId) -> dict[int, tuple[ObjectId, str]]:
    """anime_id -> (entry id, status) of the user's whole list, in one indexed query."""
    cursor = db.list_entries.find(
        indexed_id_filter(db, "user_id", user_id), {"_id": 1, "anime_id": 1, "status": 1}
    )
    return {int(doc["anime_id"]): (doc["_id"], doc["status"]) for doc in cursor}


def status_map_for_user(db: Database, user_id: ObjectId) -> dict[int, str]:
    """anime_id -> status of everything on the user's list, in one indexed query."""
    cursor = db.list_entries.find(
        indexed_id_filter(db, "user_id", user_id), {"_id": 0, "anime_id": 1, "status": 1}
    )
    return {int(doc["anime_id"]): doc["status"] for doc in cursor}


def iter_for_training(
    db: Database, batch_size: int = 50_000
) -> Iterator[list[tuple[str, int, str]]]:
    """Every entry as (user_id string, anime_id, status), in lists of up to ``batch_size``."""
    cursor = db.list_entries.find({}, {"_id": 0, "user_id": 1, "anime_id": 1, "status": 1})
    batch: list[tuple[str, int, str]] = []
    for doc in cursor.batch_size(batch_size):
        batch.append((str(doc["user_id"]), int(doc["anime_id"]), str(doc["status"])))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch
