"""Queries on the ``watch_history`` collection: each user's recorded activity."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from app.db.common import count

WATCHED = "watched"


def count_entries(db: Database, query: dict[str, Any] | None = None) -> int:
    return count(db.watch_history, query)


def upsert_watched(db: Database, entries: list[dict[str, Any]]) -> int:
    """Record watched-not-rated entries idempotently; return how many were new."""
    if not entries:
        return 0
    operations = [
        UpdateOne(
            {"user_id": entry["user_id"], "anime_id": entry["anime_id"], "action": WATCHED},
            {"$setOnInsert": {"created_at": entry["created_at"], "rating": None}},
            upsert=True,
        )
        for entry in entries
    ]
    return db.watch_history.bulk_write(operations, ordered=False).upserted_count
