"""Queries on the ``users`` collection."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from app.db.common import count

IMPORTED_USERNAME_PREFIX = "mal_"
UNIQUE_FIELDS = ("username", "email")
RATINGS_CHANGED_AT = "ratings_changed_at"
MARK_BATCH = 5_000
# The index named in a duplicate-key message: MongoDB "index: email_unique dup key: ...",
# nx-27017 "UNIQUE constraint failed: index 'idx_users_email'".
_INDEX_IN_MESSAGE = re.compile(r"index:?\s*'?([\w.$-]+)")


class UserExists(Exception):
    """A unique index refused a user; ``field`` is the colliding one (username or email)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} already exists")
        self.field = field


def find_by_id(db: Database, user_id: ObjectId) -> dict[str, Any] | None:
    return db.users.find_one({"_id": user_id})


def find_ratings_marker(db: Database, user_id: ObjectId) -> dict[str, Any] | None:
    """The user's ``_id`` and ``ratings_changed_at`` (when their ratings last changed), or None."""
    return db.users.find_one({"_id": user_id}, {"_id": 1, RATINGS_CHANGED_AT: 1})


def mark_ratings_changed(db: Database, user_ids: Iterable[ObjectId]) -> None:
    """Stamp ``ratings_changed_at`` with the server's clock; call it after changing ratings.

    Serving trusts a precomputed list only for a user stamped before the snapshot it excludes
    began: a change stamped before that is in the snapshot, one stamped after makes serving
    read the user's ratings.
    """
    operations = [
        UpdateOne({"_id": user_id}, {"$currentDate": {RATINGS_CHANGED_AT: True}})
        for user_id in dict.fromkeys(user_ids)
    ]
    for start in range(0, len(operations), MARK_BATCH):
        db.users.bulk_write(operations[start : start + MARK_BATCH], ordered=False)


def find_by_username(db: Database, username: str) -> dict[str, Any] | None:
    return db.users.find_one({"username": username})


def create(db: Database, document: dict[str, Any]) -> ObjectId:
    """Insert a new user; the unique indexes (no prior lookup) refuse duplicates with UserExists."""
    try:
        return db.users.insert_one(document).inserted_id
    except DuplicateKeyError as error:
        raise UserExists(_duplicate_field(db, error, document)) from error


def _duplicate_field(db: Database, error: DuplicateKeyError, document: dict[str, Any]) -> str:
    """Which unique field collided: keyPattern (MongoDB), the index name (nx-27017), or a lookup.

    The lookup (mongomock reports neither) runs after the index refused the insert, so it only
    names the field; it decides nothing.
    """
    details = error.details or {}
    pattern = details.get("keyPattern") or details.get("keyValue") or {}
    index = _INDEX_IN_MESSAGE.search(str(details.get("errmsg") or error))
    for field in UNIQUE_FIELDS:
        if field in pattern or (index and field in index.group(1)):
            return field
    for field in UNIQUE_FIELDS:
        if field in document and db.users.find_one({field: document[field]}, {"_id": 1}):
            return field
    return UNIQUE_FIELDS[0]


def set_admin(db: Database, user_id: ObjectId, is_admin: bool) -> None:
    db.users.update_one({"_id": user_id}, {"$set": {"is_admin": is_admin}})


def set_password_hash(db: Database, user_id: ObjectId, password_hash: str) -> None:
    db.users.update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})


def count_users(db: Database) -> int:
    return count(db.users)


def imported_username(dataset_user_id: int) -> str:
    return f"{IMPORTED_USERNAME_PREFIX}{dataset_user_id}"


def upsert_imported(db: Database, dataset_user_ids: Iterable[int]) -> dict[int, ObjectId]:
    """Ensure one password-less user per dataset user id; return dataset id -> ObjectId.

    Imported users have no password hash, so nobody can log in as them.
    """
    ids = sorted({int(user_id) for user_id in dataset_user_ids})
    now = datetime.now(UTC)
    operations = [
        UpdateOne(
            {"username": imported_username(user_id)},
            {
                "$setOnInsert": {
                    "username": imported_username(user_id),
                    "dataset_user_id": user_id,
                    "password_hash": None,
                    "is_admin": False,
                    "created_at": now,
                }
            },
            upsert=True,
        )
        for user_id in ids
    ]
    if operations:
        db.users.bulk_write(operations, ordered=False)
    cursor = db.users.find({"dataset_user_id": {"$in": ids}}, {"_id": 1, "dataset_user_id": 1})
    return {int(doc["dataset_user_id"]): doc["_id"] for doc in cursor}
