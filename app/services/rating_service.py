"""Use cases of ratings: rate (or re-rate) an anime, delete a rating, list a user's ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from app.db import ratings as ratings_db
from app.db import users as users_db
from app.db import watch_history as history_db
from app.errors import Conflict, NotFound
from app.services.anime_service import require_anime, summaries_for
from app.services.history_service import record_activity, utc_now
from app.services.pagination import fetch_page, paginated
from app.services.user_lookup import parse_id, parse_user_id, require_user


def to_public(document: dict[str, Any]) -> dict[str, Any]:
    """The rating object: ``{rating_id, user_id, anime_id, rating, created_at, updated_at}``."""
    return {
        "rating_id": str(document["_id"]),
        "user_id": str(document["user_id"]),
        "anime_id": document["anime_id"],
        "rating": document["rating"],
        "created_at": document.get("created_at"),
        "updated_at": document.get("updated_at"),
    }


def new_rating(user_id: ObjectId, anime_id: int, rating: int, *, at: datetime) -> dict[str, Any]:
    """The document of a first rating (``updated_at`` stays null until it is changed)."""
    return {
        "user_id": user_id,
        "anime_id": anime_id,
        "rating": rating,
        "created_at": at,
        "updated_at": None,
    }


def rate_anime(
    user_id: ObjectId, anime_id: int, rating: int, *, db: Database, now: datetime | None = None
) -> tuple[dict[str, Any], bool]:
    """Rate an anime, or change the user's rating of it; return (rating, created).

    One rating per user and anime: the unique index refuses a second insert, which turns into an
    update. Each change is recorded in the user's history.
    """
    require_anime(anime_id, db=db)
    now = now or utc_now()
    document = new_rating(user_id, anime_id, rating, at=now)
    try:
        document["_id"] = ratings_db.insert(db, dict(document))
    except DuplicateKeyError:
        change = ratings_db.update_rating(db, user_id, anime_id, rating)
        if change is None:
            raise Conflict("the rating was deleted meanwhile; send it again") from None
        users_db.mark_ratings_changed(db, [user_id])
        before, after = change
        record_activity(
            db=db,
            user_id=user_id,
            anime_id=anime_id,
            action=history_db.RE_RATED,
            rating=rating,
            previous_rating=before["rating"],
            at=now,
        )
        return to_public(after), False
    users_db.mark_ratings_changed(db, [user_id])
    record_activity(
        db=db,
        user_id=user_id,
        anime_id=anime_id,
        action=history_db.RATED,
        rating=rating,
        previous_rating=None,
        at=now,
    )
    return to_public(document), True


def delete_rating(
    rating_id: str,
    *,
    user_id: ObjectId,
    is_admin: bool,
    db: Database,
    now: datetime | None = None,
) -> None:
    """Delete a rating (its owner or an admin), recording it in the owner's history.

    Another user's rating is NotFound, exactly like an unknown id.
    """
    object_id = parse_id(rating_id, "rating")
    document = ratings_db.find_by_id(db, object_id)
    # Someone else's rating answers as an unknown one: its existence is not theirs to learn.
    if document is None or (document["user_id"] != user_id and not is_admin):
        raise NotFound(f"rating {rating_id} not found")
    if not ratings_db.delete_by_id(db, object_id):
        raise NotFound(f"rating {rating_id} not found")
    users_db.mark_ratings_changed(db, [document["user_id"]])
    record_activity(
        db=db,
        user_id=document["user_id"],
        anime_id=document["anime_id"],
        action=history_db.RATING_DELETED,
        rating=None,
        previous_rating=document["rating"],
        at=now or utc_now(),
    )


def list_user_ratings(
    user_id: str | ObjectId, *, db: Database, page: int, limit: int
) -> dict[str, Any]:
    """``{ratings, total, page, pages}`` of one user, newest first, each with its anime summary."""
    object_id = parse_user_id(user_id)
    require_user(object_id, db=db)
    documents, total = fetch_page(
        lambda skip, size: ratings_db.find_by_user(db, object_id, skip=skip, limit=size),
        lambda: ratings_db.count_by_user(db, object_id),
        page,
        limit,
    )
    anime = summaries_for((doc["anime_id"] for doc in documents), db=db)
    ratings = [{**to_public(doc), "anime": anime.get(doc["anime_id"])} for doc in documents]
    return paginated("ratings", ratings, total, page, limit)
