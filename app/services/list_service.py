"""Use cases of a user's list: set a status on an anime, take it off the list, read the list.

One entry per user and anime, decided by the unique index. Every change is recorded in the
user's history and stamps the user's ``ratings_changed_at`` (after the write), so serving knows
the user's state changed. A rating and a status live side by side: neither touches the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from app.db import list_entries as list_db
from app.db import users as users_db
from app.db import watch_history as history_db
from app.errors import Conflict, NotFound
from app.services.anime_service import require_anime, summaries_for
from app.services.history_service import status_entry, utc_now
from app.services.pagination import fetch_page, paginated

# A set_status retries its insert when a concurrent delete removed the entry it meant to change.
SET_ATTEMPTS = 3


def to_public(document: dict[str, Any]) -> dict[str, Any]:
    """The list entry: ``{anime_id, status, updated_at}``."""
    return {
        "anime_id": document["anime_id"],
        "status": document["status"],
        "updated_at": document.get("updated_at"),
    }


def new_entry(user_id: ObjectId, anime_id: int, status: str, *, at: datetime) -> dict[str, Any]:
    """The document of an anime put on the user's list."""
    return {
        "user_id": user_id,
        "anime_id": anime_id,
        "status": status,
        "created_at": at,
        "updated_at": at,
    }


def _record(
    db: Database,
    user_id: ObjectId,
    anime_id: int,
    action: str,
    status: str | None,
    previous_status: str | None,
    at: datetime,
) -> None:
    users_db.mark_ratings_changed(db, [user_id])
    history_db.insert(
        db,
        status_entry(
            user_id=user_id,
            anime_id=anime_id,
            action=action,
            status=status,
            previous_status=previous_status,
            at=at,
        ),
    )


def _change_existing(
    db: Database, user_id: ObjectId, anime_id: int, status: str, now: datetime
) -> dict[str, Any] | None:
    """Give the user's existing entry ``status``; None when it vanished meanwhile."""
    existing = list_db.find_for_user(db, user_id, anime_id)
    if existing is None:
        return None
    if existing["status"] == status:
        return existing
    before = list_db.set_status(db, existing["_id"], status)
    if before is None:
        return None
    _record(db, user_id, anime_id, history_db.STATUS_CHANGED, status, before["status"], now)
    return list_db.find_by_id(db, existing["_id"]) or {**before, "status": status}


def set_status(
    user_id: ObjectId, anime_id: int, status: str, *, db: Database, now: datetime | None = None
) -> tuple[dict[str, Any], bool]:
    """Put an anime on the user's list with ``status``, or change it; return (entry, created).

    The unique index refuses a second entry, which turns into an update. Sending the status it
    already has changes nothing (no history entry).
    """
    require_anime(anime_id, db=db)
    now = now or utc_now()
    for _ in range(SET_ATTEMPTS):
        document = new_entry(user_id, anime_id, status, at=now)
        try:
            list_db.insert(db, document)
        except DuplicateKeyError:
            changed = _change_existing(db, user_id, anime_id, status, now)
            if changed is not None:
                return to_public(changed), False
            continue
        _record(db, user_id, anime_id, history_db.LISTED, status, None, now)
        return to_public(document), True
    raise Conflict("the list entry kept changing meanwhile; send it again")


def remove_from_list(
    user_id: ObjectId, anime_id: int, *, db: Database, now: datetime | None = None
) -> None:
    """Take an anime off the user's list (its rating, if any, stays); NotFound when not on it."""
    existing = list_db.find_for_user(db, user_id, anime_id)
    removed = list_db.delete_by_id(db, existing["_id"]) if existing else None
    if removed is None:
        raise NotFound(f"anime {anime_id} is not on your list")
    _record(db, user_id, anime_id, history_db.UNLISTED, None, removed["status"], now or utc_now())


def list_entries(
    user_id: ObjectId, *, db: Database, page: int, limit: int, status: str | None = None
) -> dict[str, Any]:
    """``{entries, total, page, pages}`` of the user's list, most recently changed first."""
    documents, total = fetch_page(
        lambda skip, size: list_db.find_by_user(db, user_id, status=status, skip=skip, limit=size),
        lambda: list_db.count_by_user(db, user_id, status=status),
        page,
        limit,
    )
    anime = summaries_for((doc["anime_id"] for doc in documents), db=db)
    entries = [{**to_public(doc), "anime": anime.get(doc["anime_id"])} for doc in documents]
    return paginated("entries", entries, total, page, limit)
