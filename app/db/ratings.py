"""Queries on the ``ratings`` collection (one document per user and anime)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.database import Database

from app.db.common import count, indexed_id_filter


def find_pairs_for_users(
    db: Database, user_ids: list[ObjectId], chunk_size: int = 500
) -> dict[tuple[ObjectId, int], tuple[ObjectId, int]]:
    """(user_id, anime_id) -> (rating id, rating) for every rating of the given users."""
    pairs: dict[tuple[ObjectId, int], tuple[ObjectId, int]] = {}
    for start in range(0, len(user_ids), chunk_size):
        chunk = user_ids[start : start + chunk_size]
        cursor = db.ratings.find(
            {"user_id": {"$in": chunk}}, {"_id": 1, "user_id": 1, "anime_id": 1, "rating": 1}
        )
        for doc in cursor:
            pairs[(doc["user_id"], int(doc["anime_id"]))] = (doc["_id"], int(doc["rating"]))
    return pairs


def insert_many(db: Database, documents: list[dict[str, Any]]) -> int:
    """Insert new ratings in one batch; return how many were inserted."""
    if not documents:
        return 0
    return len(db.ratings.insert_many(documents, ordered=False).inserted_ids)


def set_ratings(db: Database, changes: list[tuple[ObjectId, int]]) -> int:
    """Set (rating id, rating) on existing ratings in one batch; return how many changed.

    Filtered on ``_id``: the embedded server cannot match ObjectIds in other fields of an update.
    """
    if not changes:
        return 0
    operations = [
        UpdateOne(
            {"_id": rating_id},
            {"$set": {"rating": rating}, "$currentDate": {"updated_at": True}},
        )
        for rating_id, rating in changes
    ]
    return db.ratings.bulk_write(operations, ordered=False).modified_count


def find_by_id(db: Database, rating_id: ObjectId) -> dict[str, Any] | None:
    return db.ratings.find_one({"_id": rating_id})


def insert(db: Database, document: dict[str, Any]) -> ObjectId:
    """Insert one rating; a second one for the same user and anime raises DuplicateKeyError."""
    return db.ratings.insert_one(document).inserted_id


def update_rating(
    db: Database, user_id: ObjectId, anime_id: int, rating: int
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Change an existing rating; return (before, after), or None when there is none.

    The rating is found through the user's index, then updated by ``_id``: nx-27017 scans the whole
    collection for an update filtered on the ``user_id.id`` path (0.5 s on the sample). Its
    ``updated_at`` comes from ``$currentDate``: nx-27017 stores a datetime given to ``$set`` as a
    naive string, while ``$currentDate`` stores a real date on every backend.
    """
    existing = db.ratings.find_one(
        {**indexed_id_filter(db, "user_id", user_id), "anime_id": anime_id}, {"_id": 1}
    )
    if existing is None:
        return None
    before = db.ratings.find_one_and_update(
        {"_id": existing["_id"]},
        {"$set": {"rating": rating}, "$currentDate": {"updated_at": True}},
        return_document=ReturnDocument.BEFORE,
    )
    if before is None:
        return None
    after = db.ratings.find_one({"_id": before["_id"]}) or {**before, "rating": rating}
    return before, after


def delete_by_id(db: Database, rating_id: ObjectId) -> bool:
    return db.ratings.delete_one({"_id": rating_id}).deleted_count == 1


def find_by_user(db: Database, user_id: ObjectId, *, skip: int, limit: int) -> list[dict[str, Any]]:
    """One page of a user's ratings, newest first (``user_recent``; ``user_id.id`` on nx-27017)."""
    cursor = db.ratings.find(indexed_id_filter(db, "user_id", user_id)).sort(
        [("created_at", DESCENDING), ("_id", DESCENDING)]
    )
    return list(cursor.skip(skip).limit(limit))


def count_by_user(db: Database, user_id: ObjectId) -> int:
    return count(db.ratings, indexed_id_filter(db, "user_id", user_id))


def stats_for_anime(db: Database, anime_id: int) -> tuple[int, float | None]:
    """(number of ratings, mean rating or None) of one anime, from the ``anime_id`` index."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"anime_id": anime_id}},
        {"$group": {"_id": None, "count": {"$sum": 1}, "mean": {"$avg": "$rating"}}},
    ]
    rows = list(db.ratings.aggregate(pipeline))
    if not rows or not rows[0]["count"]:
        return 0, None
    return int(rows[0]["count"]), float(rows[0]["mean"])


def rating_map_for_user(db: Database, user_id: ObjectId) -> dict[int, float]:
    """anime_id -> rating of everything the user rated, in one indexed query."""
    cursor = db.ratings.find(
        indexed_id_filter(db, "user_id", user_id), {"_id": 0, "anime_id": 1, "rating": 1}
    )
    return {int(doc["anime_id"]): float(doc["rating"]) for doc in cursor}


def ids_for_user(db: Database, user_id: ObjectId) -> dict[int, tuple[ObjectId, int]]:
    """anime_id -> (rating id, rating) of everything the user rated, in one indexed query."""
    cursor = db.ratings.find(
        indexed_id_filter(db, "user_id", user_id), {"_id": 1, "anime_id": 1, "rating": 1}
    )
    return {int(doc["anime_id"]): (doc["_id"], int(doc["rating"])) for doc in cursor}


def iter_for_training(
    db: Database, batch_size: int = 50_000
) -> Iterator[list[tuple[str, int, float]]]:
    """Every rating as (user_id string, anime_id, rating), in lists of up to ``batch_size``."""
    cursor = db.ratings.find({}, {"_id": 0, "user_id": 1, "anime_id": 1, "rating": 1})
    batch: list[tuple[str, int, float]] = []
    for doc in cursor.batch_size(batch_size):
        batch.append((str(doc["user_id"]), int(doc["anime_id"]), float(doc["rating"])))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def rating_distribution(db: Database) -> dict[int, int]:
    """rating value -> number of ratings, one ``$group`` over the collection."""
    pipeline: list[dict[str, Any]] = [{"$group": {"_id": "$rating", "count": {"$sum": 1}}}]
    return {int(row["_id"]): int(row["count"]) for row in db.ratings.aggregate(pipeline)}


def most_rated(db: Database, limit: int) -> list[tuple[int, int]]:
    """(anime_id, number of ratings) of the most rated anime, most first."""
    pipeline: list[dict[str, Any]] = [
        {"$group": {"_id": "$anime_id", "count": {"$sum": 1}}},
        {"$sort": {"count": -1, "_id": 1}},
        {"$limit": limit},
    ]
    return [(int(row["_id"]), int(row["count"])) for row in db.ratings.aggregate(pipeline)]
