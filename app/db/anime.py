"""Queries on the ``anime`` collection."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import OperationFailure

from app.db.common import count

log = logging.getLogger(__name__)

PUBLIC_FIELDS = {"_id": 0}
PUBLIC_FIELD_NAMES = (
    "anime_id",
    "name",
    "genre",
    "type",
    "episodes",
    "rating",
    "members",
    "description",
    "image_url",
)
GENRE_SEPARATOR = ", "
TEXT_SCORE = {"score": {"$meta": "textScore"}}
# nx-27017 turns a textScore projection into an inclusion projection: name every public field.
TEXT_PROJECTION = {
    "_id": 0,
    **{field: 1 for field in PUBLIC_FIELD_NAMES},
    **TEXT_SCORE,
}
INDEX_NOT_FOUND = 27


def find_by_id(db: Database, anime_id: int) -> dict[str, Any] | None:
    return db.anime.find_one({"anime_id": anime_id}, PUBLIC_FIELDS)


def find_by_ids(db: Database, anime_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """anime_id -> document for every id that exists, in one query."""
    ids = list({int(anime_id) for anime_id in anime_ids})
    if not ids:
        return {}
    cursor = db.anime.find({"anime_id": {"$in": ids}}, PUBLIC_FIELDS)
    return {int(doc["anime_id"]): doc for doc in cursor}


def find_existing_ids(db: Database, anime_ids: Iterable[int], chunk_size: int = 1000) -> set[int]:
    """Which of ``anime_ids`` are in the catalogue, from the ``anime_id`` index in chunks."""
    ids = sorted({int(anime_id) for anime_id in anime_ids})
    found: set[int] = set()
    for start in range(0, len(ids), chunk_size):
        cursor = db.anime.find(
            {"anime_id": {"$in": ids[start : start + chunk_size]}}, {"_id": 0, "anime_id": 1}
        )
        found.update(int(doc["anime_id"]) for doc in cursor)
    return found


def find_popular(db: Database, *, min_members: int, limit: int) -> list[dict[str, Any]]:
    """The best-rated anime among those with at least ``min_members`` members, best first."""
    query = {"members": {"$gte": min_members}, "rating": {"$type": "number"}}
    order = [("rating", DESCENDING), ("anime_id", ASCENDING)]
    return list(db.anime.find(query, PUBLIC_FIELDS).sort(order).limit(limit))


def count_anime(db: Database) -> int:
    return count(db.anime)


def find_all_for_comparison(db: Database) -> dict[int, dict[str, Any]]:
    """anime_id -> stored document (without _id) for the whole catalogue, in one pass."""
    return {int(doc["anime_id"]): doc for doc in db.anime.find({}, PUBLIC_FIELDS)}


def insert_many(db: Database, documents: list[dict[str, Any]]) -> int:
    """Insert new anime in one batch; return how many were inserted."""
    if not documents:
        return 0
    return len(db.anime.insert_many(documents, ordered=False).inserted_ids)


def update_fields(db: Database, changes: dict[int, dict[str, Any]]) -> int:
    """``$set`` the given fields per anime_id in one batch; return how many documents changed."""
    if not changes:
        return 0
    operations = [
        UpdateOne({"anime_id": anime_id}, {"$set": fields}) for anime_id, fields in changes.items()
    ]
    return db.anime.bulk_write(operations, ordered=False).modified_count


def _case_insensitive(pattern: str) -> dict[str, Any]:
    """``{"$regex": "(?i)<pattern>"}``: one regex, its flag inline.

    The embedded nx-27017 server runs this form in SQL (a few ms on the catalogue) but evaluates a
    ``$regex`` with ``$options``, or several inside ``$and``, document by document in Python
    (about a second). MongoDB and mongomock read both forms the same way.
    """
    return {"$regex": f"(?i){pattern}"}


def _whole_genre(genre: str) -> str:
    return rf"(?:^|,)\s*{re.escape(genre)}\s*(?:,|$)"


def genre_filter(genres: Sequence[str]) -> dict[str, Any]:
    """Anime having every one of ``genres``, each matched whole and case-insensitively.

    The ``genre`` field is a comma-separated list, so a genre matches only between commas (or the
    ends): "Shounen" does not match "Shounen Ai". Several genres are one regex of lookaheads, one
    per genre, rather than an ``$and`` of regexes (see ``_case_insensitive``).
    """
    if not genres:
        return {}
    if len(genres) == 1:
        return {"genre": _case_insensitive(_whole_genre(genres[0]))}
    lookaheads = "".join(f"(?=.*{_whole_genre(genre)})" for genre in genres)
    return {"genre": _case_insensitive(f"^{lookaheads}")}


def find_page(
    db: Database,
    query: dict[str, Any],
    *,
    sort_field: str,
    descending: bool,
    skip: int,
    limit: int,
) -> list[dict[str, Any]]:
    """One page of anime matching ``query``, ordered by ``sort_field`` then anime_id."""
    order: list[tuple[str, int]] = [(sort_field, DESCENDING if descending else ASCENDING)]
    if sort_field != "anime_id":
        order.append(("anime_id", ASCENDING))
    return list(db.anime.find(query, PUBLIC_FIELDS).sort(order).skip(skip).limit(limit))


def count_matching(db: Database, query: dict[str, Any]) -> int:
    return count(db.anime, query)


def genre_counts(db: Database) -> list[dict[str, Any]]:
    """Every genre with its number of anime: ``[{"genre", "count"}]`` sorted by genre."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"genre": {"$type": "string", "$ne": ""}}},
        {"$project": {"_id": 0, "genre": {"$split": ["$genre", GENRE_SEPARATOR]}}},
        {"$unwind": "$genre"},
        {"$group": {"_id": "$genre", "count": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]
    return [{"genre": row["_id"], "count": row["count"]} for row in db.anime.aggregate(pipeline)]


def search_text(db: Database, text: str, limit: int) -> list[dict[str, Any]] | None:
    """Anime whose name matches ``text`` in the text index, best score first.

    None when the database cannot run ``$text`` (mongomock, or a missing text index), so the
    caller can fall back to pattern matching.
    """
    cursor = (
        db.anime.find({"$text": {"$search": text}}, TEXT_PROJECTION)
        .sort([("score", TEXT_SCORE["score"]), ("members", DESCENDING)])
        .limit(limit)
    )
    try:
        documents = list(cursor)
    except NotImplementedError:
        return None
    except OperationFailure as error:
        if error.code != INDEX_NOT_FOUND:
            raise
        log.warning("anime has no text index; keyword search falls back to patterns")
        return None
    for document in documents:
        document.pop("score", None)
    return documents


def find_by_name_containing(
    db: Database,
    text: str,
    query: dict[str, Any],
    *,
    exclude_ids: Iterable[int],
    limit: int,
) -> list[dict[str, Any]]:
    """Anime whose name contains ``text`` (literally, any case), most members first."""
    name_query = {
        "name": _case_insensitive(re.escape(text)),
        "anime_id": {"$nin": list(exclude_ids)},
        **query,
    }
    cursor = db.anime.find(name_query, PUBLIC_FIELDS).sort(
        [("members", DESCENDING), ("anime_id", ASCENDING)]
    )
    return list(cursor.limit(limit))


INDEX_FIELDS = {"_id": 0, "anime_id": 1, "name": 1, "genre": 1, "type": 1, "members": 1}


def iter_for_index(
    db: Database, anime_ids: Iterable[int] | None = None
) -> Iterator[dict[str, Any]]:
    """The fields the semantic index embeds (with ``description``), for all or some anime."""
    query = {} if anime_ids is None else {"anime_id": {"$in": [int(a) for a in anime_ids]}}
    yield from db.anime.find(query, {**INDEX_FIELDS, "description": 1}).sort("anime_id", ASCENDING)
