"""Ids in paths and the user they name: one rule for every route.

A malformed id (not 24 hexadecimal digits) is a 400 that names the id; a well-formed id of no
user (or job, or rating) is a 404. Every service that takes an id from a path goes through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from app.db import users as users_db
from app.db.common import as_utc, to_object_id
from app.errors import BadRequest, NotFound

OBJECT_ID_PATTERN = "^[0-9a-fA-F]{24}$"


def parse_id(value: str | ObjectId, kind: str) -> ObjectId:
    """The ObjectId ``value`` spells; BadRequest naming the ``kind`` of id when it is malformed."""
    object_id = to_object_id(value)
    if object_id is None:
        raise BadRequest(f"malformed {kind} id: {value!r} (expected 24 hexadecimal digits)")
    return object_id


def parse_user_id(user_id: str | ObjectId) -> ObjectId:
    """The user's ObjectId; BadRequest when malformed."""
    return parse_id(user_id, "user")


def require_user(user_id: str | ObjectId, *, db: Database) -> dict[str, Any]:
    """The user document; BadRequest for a malformed id, NotFound for an unknown one."""
    user = users_db.find_by_id(db, parse_user_id(user_id))
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def ratings_marker(user_id: str | ObjectId, *, db: Database) -> tuple[ObjectId, datetime | None]:
    """(user ObjectId, when the user's ratings last changed if stamped), from one small query.

    BadRequest for a malformed id, NotFound for an unknown one.
    """
    object_id = parse_user_id(user_id)
    found = users_db.find_ratings_marker(db, object_id)
    if found is None:
        raise NotFound(f"user {user_id} not found")
    changed = found.get(users_db.RATINGS_CHANGED_AT)
    return object_id, as_utc(changed) if isinstance(changed, datetime) else None
