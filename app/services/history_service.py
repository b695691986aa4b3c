"""Use cases of the activity history: record what users do, list it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from app.db import watch_history as history_db
from app.errors import Forbidden
from app.services.anime_service import summaries_for
from app.services.pagination import fetch_page, paginated
from app.services.user_lookup import parse_user_id, require_user


def utc_now() -> datetime:
    """The current UTC time at MongoDB's precision (milliseconds), so responses match storage."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def rating_entry(
    *,
    user_id: ObjectId,
    anime_id: int,
    action: str,
    rating: int | None,
    previous_rating: int | None,
    at: datetime,
) -> dict[str, Any]:
    """The history entry of a rating change (rated, re-rated, rating_deleted)."""
    return {
        "user_id": user_id,
        "anime_id": anime_id,
        "action": action,
        "rating": rating,
        "previous_rating": previous_rating,
        "created_at": at,
    }


def status_entry(
    *,
    user_id: ObjectId,
    anime_id: int,
    action: str,
    status: str | None,
    previous_status: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The history entry of a list change (listed, status_changed, unlisted)."""
    return {
        "user_id": user_id,
        "anime_id": anime_id,
        "action": action,
        "status": status,
        "previous_status": previous_status,
        "created_at": at,
    }


def record_activity(
    *,
    db: Database,
    user_id: ObjectId,
    anime_id: int,
    action: str,
    rating: int | None,
    previous_rating: int | None,
    at: datetime,
) -> None:
    """Append one rating change to the user's history."""
    history_db.insert(
        db,
        rating_entry(
            user_id=user_id,
            anime_id=anime_id,
            action=action,
            rating=rating,
            previous_rating=previous_rating,
            at=at,
        ),
    )


def _to_public(entry: dict[str, Any], anime: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": str(entry["_id"]),
        "user_id": str(entry["user_id"]),
        "anime_id": entry["anime_id"],
        "action": entry["action"],
        "rating": entry.get("rating"),
        "previous_rating": entry.get("previous_rating"),
        "status": entry.get("status"),
        "previous_status": entry.get("previous_status"),
        "created_at": entry.get("created_at"),
        "anime": anime.get(entry["anime_id"]),
    }


def list_history(
    user_id: str | ObjectId,
    *,
    caller_id: ObjectId,
    caller_is_admin: bool,
    db: Database,
    page: int,
    limit: int,
) -> dict[str, Any]:
    """``{history, total, page, pages}`` of one user, newest first; the user or an admin only."""
    object_id = parse_user_id(user_id)
    if object_id != caller_id and not caller_is_admin:
        raise Forbidden("only the user themself or an admin may read this history")
    require_user(object_id, db=db)
    entries, total = fetch_page(
        lambda skip, size: history_db.find_by_user(db, object_id, skip=skip, limit=size),
        lambda: history_db.count_by_user(db, object_id),
        page,
        limit,
    )
    anime = summaries_for((entry["anime_id"] for entry in entries), db=db)
    return paginated("history", [_to_public(entry, anime) for entry in entries], total, page, limit)
