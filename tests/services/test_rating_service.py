"""rating_service on a mongomock database: rate, re-rate, delete, list, with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from app.db.indexes import ensure_indexes
from app.errors import BadRequest, NotFound
from app.services import rating_service

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def indexed_db(db, sample_anime):
    ensure_indexes(db)
    return db


def test_rate_then_rerate_keeps_one_rating_and_records_both(indexed_db) -> None:
    user = ObjectId()
    rating, created = rating_service.rate_anime(user, 20, 7, db=indexed_db, now=T0)
    assert created is True
    assert rating == {
        "rating_id": rating["rating_id"],
        "user_id": str(user),
        "anime_id": 20,
        "rating": 7,
        "created_at": T0,
        "updated_at": None,
    }
    later = T0 + timedelta(hours=1)
    again, created = rating_service.rate_anime(user, 20, 9, db=indexed_db, now=later)
    assert created is False
    assert again["rating_id"] == rating["rating_id"]
    assert (again["rating"], again["created_at"]) == (9, T0)
    assert again["updated_at"] > T0
    assert indexed_db.ratings.count_documents({}) == 1
    history = list(indexed_db.watch_history.find({}, {"_id": 0}).sort("created_at", 1))
    assert [(h["action"], h["rating"], h["previous_rating"]) for h in history] == [
        ("rated", 7, None),
        ("re-rated", 9, 7),
    ]


def test_rate_unknown_anime_raises_not_found(indexed_db) -> None:
    with pytest.raises(NotFound):
        rating_service.rate_anime(ObjectId(), 404, 7, db=indexed_db)
    assert indexed_db.watch_history.count_documents({}) == 0


def test_delete_by_owner_records_the_owners_history(indexed_db) -> None:
    owner = ObjectId()
    rating, _ = rating_service.rate_anime(owner, 1, 4, db=indexed_db, now=T0)
    rating_service.delete_rating(rating["rating_id"], user_id=owner, is_admin=False, db=indexed_db)
    assert indexed_db.ratings.count_documents({}) == 0
    entry = indexed_db.watch_history.find_one({"action": "rating_deleted"})
    assert (entry["user_id"], entry["anime_id"], entry["previous_rating"]) == (owner, 1, 4)


def test_delete_by_admin_records_it_for_the_owner(indexed_db) -> None:
    owner = ObjectId()
    rating, _ = rating_service.rate_anime(owner, 1, 4, db=indexed_db)
    rating_service.delete_rating(
        rating["rating_id"], user_id=ObjectId(), is_admin=True, db=indexed_db
    )
    assert indexed_db.watch_history.find_one({"action": "rating_deleted"})["user_id"] == owner


def test_delete_refusals(indexed_db) -> None:
    rating, _ = rating_service.rate_anime(ObjectId(), 1, 4, db=indexed_db)
    with pytest.raises(NotFound):
        rating_service.delete_rating(
            rating["rating_id"], user_id=ObjectId(), is_admin=False, db=indexed_db
        )
    with pytest.raises(BadRequest):
        rating_service.delete_rating("zzz", user_id=ObjectId(), is_admin=True, db=indexed_db)
    with pytest.raises(NotFound):
        rating_service.delete_rating(
            str(ObjectId()), user_id=ObjectId(), is_admin=True, db=indexed_db
        )
    assert indexed_db.ratings.count_documents({}) == 1


def test_list_user_ratings_pages_newest_first(indexed_db, make_user) -> None:
    user = make_user("carol")["_id"]
    for step, anime_id in enumerate((1, 20, 21)):
        rating_service.rate_anime(
            user, anime_id, 5 + step, db=indexed_db, now=T0 + timedelta(minutes=step)
        )
    page = rating_service.list_user_ratings(str(user), db=indexed_db, page=1, limit=2)
    assert [row["anime_id"] for row in page["ratings"]] == [21, 20]
    assert page["ratings"][0]["anime"]["name"] == "One Piece"
    assert (page["total"], page["pages"]) == (3, 2)
    beyond = rating_service.list_user_ratings(user, db=indexed_db, page=5, limit=2)
    assert beyond["ratings"] == []


def test_list_user_ratings_unknown_user(indexed_db) -> None:
    with pytest.raises(NotFound):
        rating_service.list_user_ratings(str(ObjectId()), db=indexed_db, page=1, limit=20)
    with pytest.raises(BadRequest):
        rating_service.list_user_ratings("x", db=indexed_db, page=1, limit=20)


def test_rating_dates_stored_as_strings_are_served_as_utc_iso() -> None:
    from app.schemas.rating import RatingSchema

    body = RatingSchema().dump(
        {
            "rating_id": "r",
            "user_id": "u",
            "anime_id": 1,
            "rating": 5,
            "created_at": datetime(2025, 5, 1, 12, 0),
            "updated_at": "2025-05-02 08:30:00.250000",
        }
    )
    assert body["created_at"] == "2025-05-01T12:00:00+00:00"
    assert body["updated_at"] == "2025-05-02T08:30:00.250000+00:00"


def test_every_rating_change_stamps_the_user(indexed_db) -> None:
    user = indexed_db.users.insert_one({"username": "stamped"}).inserted_id

    def take_stamp() -> object:
        found = indexed_db.users.find_one({"_id": user})
        indexed_db.users.update_one({"_id": user}, {"$unset": {"ratings_changed_at": ""}})
        return found.get("ratings_changed_at")

    assert take_stamp() is None
    rating, _ = rating_service.rate_anime(user, 1, 4, db=indexed_db)
    assert take_stamp() is not None
    rating_service.rate_anime(user, 1, 6, db=indexed_db)
    assert take_stamp() is not None
    rating_service.delete_rating(rating["rating_id"], user_id=user, is_admin=False, db=indexed_db)
    assert take_stamp() is not None
    with pytest.raises(NotFound):
        rating_service.rate_anime(user, 404, 7, db=indexed_db)
    assert take_stamp() is None
