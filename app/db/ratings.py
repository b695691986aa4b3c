"""Queries on the ``ratings`` collection (one document per user and anime)."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from app.db.common import count


def count_ratings(db: Database, query: dict[str, Any] | None = None) -> int:
    return count(db.ratings, query)


def upsert_many(db: Database, documents: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update ratings keyed by (user_id, anime_id); return (inserted, modified).

    ``created_at`` is set only on insert, so re-importing the same data changes nothing.
    """
    if not documents:
        return 0, 0
    operations = [
        UpdateOne(
            {"user_id": doc["user_id"], "anime_id": doc["anime_id"]},
            {"$set": {"rating": doc["rating"]}, "$setOnInsert": {"created_at": doc["created_at"]}},
            upsert=True,
        )
        for doc in documents
    ]
    result = db.ratings.bulk_write(operations, ordered=False)
    return result.upserted_count, result.modified_count
