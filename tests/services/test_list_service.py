"""list_service and the list_entries data access on mongomock: statuses, history, stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from app.db import list_entries as list_db
from app.db.indexes import ensure_indexes
from app.errors import NotFound
from app.services import list_service, rating_service

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def indexed_db(db, sample_anime):
    ensure_indexes(db)
    return db


@pytest.fixture
def user(indexed_db) -> ObjectId:
    return indexed_db.users.insert_one({"username": "alice"}).inserted_id


def history(db) -> list[tuple]:
    entries = db.watch_history.find({}, {"_id": 0}).sort([("created_at", 1), ("_id", 1)])
    return [(e["action"], e["anime_id"], e["status"], e["previous_status"]) for e in entries]


@pytest.mark.parametrize("status", list_db.STATUSES)
def test_every_status_can_be_set(indexed_db, user, status: str) -> None:
    entry, created = list_service.set_status(user, 20, status, db=indexed_db, now=T0)
    assert created is True
    assert entry == {"anime_id": 20, "status": status, "updated_at": T0}
    assert list_db.status_map_for_user(indexed_db, user) == {20: status}


def test_changing_a_status_keeps_one_entry_and_records_both(indexed_db, user) -> None:
    list_service.set_status(user, 20, "watching", db=indexed_db, now=T0)
    entry, created = list_service.set_status(user, 20, "dropped", db=indexed_db, now=T0)
    assert created is False
    assert entry["status"] == "dropped" and entry["updated_at"] >= T0
    assert list_db.count_entries(indexed_db) == 1
    assert history(indexed_db) == [
        ("listed", 20, "watching", None),
        ("status_changed", 20, "dropped", "watching"),
    ]


def test_sending_the_same_status_again_changes_nothing(indexed_db, user) -> None:
    first, _ = list_service.set_status(user, 20, "watching", db=indexed_db, now=T0)
    marker = indexed_db.users.find_one({"_id": user})["ratings_changed_at"]
    later = T0 + timedelta(hours=1)
    again, created = list_service.set_status(user, 20, "watching", db=indexed_db, now=later)
    assert (again, created) == (first, False)
    assert len(history(indexed_db)) == 1
    assert indexed_db.users.find_one({"_id": user})["ratings_changed_at"] == marker


def test_every_change_stamps_the_user_after_the_write(indexed_db, user) -> None:
    def stamp():
        return indexed_db.users.find_one({"_id": user}).get("ratings_changed_at")

    assert stamp() is None
    list_service.set_status(user, 20, "watching", db=indexed_db)
    first = stamp()
    assert first is not None
    list_service.set_status(user, 20, "completed", db=indexed_db)
    second = stamp()
    assert second >= first
    list_service.remove_from_list(user, 20, db=indexed_db)
    assert stamp() >= second


def test_unknown_anime_is_not_found_and_writes_nothing(indexed_db, user) -> None:
    with pytest.raises(NotFound):
        list_service.set_status(user, 404, "watching", db=indexed_db)
    assert list_db.count_entries(indexed_db) == 0
    assert indexed_db.watch_history.count_documents({}) == 0


def test_remove_records_the_status_it_had(indexed_db, user) -> None:
    list_service.set_status(user, 1, "on_hold", db=indexed_db, now=T0)
    list_service.remove_from_list(user, 1, db=indexed_db, now=T0 + timedelta(minutes=1))
    assert list_db.count_entries(indexed_db) == 0
    assert history(indexed_db)[-1] == ("unlisted", 1, None, "on_hold")
    with pytest.raises(NotFound):
        list_service.remove_from_list(user, 1, db=indexed_db)


def test_a_rating_and_a_status_live_side_by_side(indexed_db, user) -> None:
    rating, _ = rating_service.rate_anime(user, 1, 9, db=indexed_db)
    list_service.set_status(user, 1, "completed", db=indexed_db)
    list_service.remove_from_list(user, 1, db=indexed_db)
    assert indexed_db.ratings.count_documents({"anime_id": 1}) == 1
    list_service.set_status(user, 1, "completed", db=indexed_db)
    rating_service.delete_rating(rating["rating_id"], user_id=user, is_admin=False, db=indexed_db)
    assert list_db.status_map_for_user(indexed_db, user) == {1: "completed"}


def test_the_list_is_newest_first_and_filters_by_status(indexed_db, user) -> None:
    for minutes, (anime_id, status) in enumerate(
        [(1, "completed"), (20, "dropped"), (21, "completed")]
    ):
        list_service.set_status(
            user, anime_id, status, db=indexed_db, now=T0 + timedelta(minutes=minutes)
        )
    everything = list_service.list_entries(user, db=indexed_db, page=1, limit=20)
    assert [e["anime_id"] for e in everything["entries"]] == [21, 20, 1]
    assert everything["entries"][0]["anime"]["name"] == "One Piece"
    completed = list_service.list_entries(user, db=indexed_db, page=1, limit=1, status="completed")
    assert (completed["total"], completed["pages"]) == (2, 2)
    assert [e["anime_id"] for e in completed["entries"]] == [21]


def test_another_users_list_is_separate(indexed_db, user) -> None:
    other = indexed_db.users.insert_one({"username": "bob"}).inserted_id
    list_service.set_status(user, 1, "watching", db=indexed_db)
    list_service.set_status(other, 1, "dropped", db=indexed_db)
    assert list_db.status_map_for_user(indexed_db, user) == {1: "watching"}
    assert list_service.list_entries(other, db=indexed_db, page=1, limit=20)["total"] == 1
    with pytest.raises(NotFound):
        list_service.remove_from_list(other, 20, db=indexed_db)


def test_training_reads_every_entry_in_batches(indexed_db, user) -> None:
    other = ObjectId()
    list_service.set_status(user, 1, "completed", db=indexed_db)
    list_service.set_status(user, 20, "not_interested", db=indexed_db)
    list_service.set_status(other, 21, "dropped", db=indexed_db)
    batches = list(list_db.iter_for_training(indexed_db, batch_size=2))
    assert [len(batch) for batch in batches] == [2, 1]
    assert sorted(row for batch in batches for row in batch) == sorted(
        [
            (str(user), 1, "completed"),
            (str(user), 20, "not_interested"),
            (str(other), 21, "dropped"),
        ]
    )
