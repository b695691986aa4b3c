"""Queries on the ``anime`` collection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from app.db.common import count

PUBLIC_FIELDS = {"_id": 0}


def find_by_id(db: Database, anime_id: int) -> dict[str, Any] | None:
    return db.anime.find_one({"anime_id": anime_id}, PUBLIC_FIELDS)


def find_by_ids(db: Database, anime_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """anime_id -> document for every id that exists, in one query."""
    ids = list({int(anime_id) for anime_id in anime_ids})
    if not ids:
        return {}
    cursor = db.anime.find({"anime_id": {"$in": ids}}, PUBLIC_FIELDS)
    return {int(doc["anime_id"]): doc for doc in cursor}


def all_ids(db: Database) -> set[int]:
    return {int(doc["anime_id"]) for doc in db.anime.find({}, {"_id": 0, "anime_id": 1})}


def count_anime(db: Database) -> int:
    return count(db.anime)


def upsert_many(db: Database, documents: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update anime by anime_id; return (inserted, modified)."""
    if not documents:
        return 0, 0
    operations = [
        UpdateOne({"anime_id": doc["anime_id"]}, {"$set": doc}, upsert=True) for doc in documents
    ]
    result = db.anime.bulk_write(operations, ordered=False)
    return result.upserted_count, result.modified_count


def set_descriptions(db: Database, descriptions: dict[int, str]) -> int:
    """Set ``description`` for the given anime ids; return how many documents changed."""
    operations = [
        UpdateOne({"anime_id": anime_id}, {"$set": {"description": text}})
        for anime_id, text in descriptions.items()
    ]
    if not operations:
        return 0
    return db.anime.bulk_write(operations, ordered=False).modified_count
