"""history_service on a mongomock database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from app.errors import BadRequest, Forbidden, NotFound
from app.services import history_service

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_utc_now_is_aware_and_at_millisecond_precision() -> None:
    now = history_service.utc_now()
    assert now.utcoffset() == timedelta(0)
    assert now.microsecond % 1000 == 0


def test_list_history_newest_first_with_anime(db, sample_anime, make_user) -> None:
    user = make_user("dana")["_id"]
    for minute, (anime_id, action) in enumerate([(1, "watched"), (20, "rated"), (21, "rated")]):
        history_service.record_activity(
            db=db,
            user_id=user,
            anime_id=anime_id,
            action=action,
            rating=None if action == "watched" else 8,
            previous_rating=None,
            at=T0 + timedelta(minutes=minute),
        )
    result = history_service.list_history(
        str(user), caller_id=user, caller_is_admin=False, db=db, page=1, limit=2
    )
    assert [(e["anime_id"], e["action"]) for e in result["history"]] == [
        (21, "rated"),
        (20, "rated"),
    ]
    assert result["history"][0]["anime"]["name"] == "One Piece"
    assert (result["total"], result["pages"]) == (3, 2)


def test_forbidden_is_decided_before_the_user_is_looked_up(db) -> None:
    with pytest.raises(Forbidden):
        history_service.list_history(
            ObjectId(), caller_id=ObjectId(), caller_is_admin=False, db=db, page=1, limit=20
        )
    with pytest.raises(NotFound):
        history_service.list_history(
            ObjectId(), caller_id=ObjectId(), caller_is_admin=True, db=db, page=1, limit=20
        )
    with pytest.raises(BadRequest):
        history_service.list_history(
            "nope", caller_id=ObjectId(), caller_is_admin=True, db=db, page=1, limit=20
        )
