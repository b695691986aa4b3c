"""Queries on the ``users`` collection."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.database import Database

from app.db.common import count

IMPORTED_USERNAME_PREFIX = "mal_"


def find_by_id(db: Database, user_id: ObjectId) -> dict[str, Any] | None:
    return db.users.find_one({"_id": user_id})


def find_by_username(db: Database, username: str) -> dict[str, Any] | None:
    return db.users.find_one({"username": username})


def insert(db: Database, document: dict[str, Any]) -> ObjectId:
    """Insert a user; a duplicate username or email raises pymongo's DuplicateKeyError."""
    return db.users.insert_one(document).inserted_id


def set_admin(db: Database, user_id: ObjectId, is_admin: bool) -> None:
    db.users.update_one({"_id": user_id}, {"$set": {"is_admin": is_admin}})


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
