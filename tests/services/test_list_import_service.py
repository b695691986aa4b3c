"""list_import_service on mongomock: the round trip, re-import, updates, history, bad files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from bson import ObjectId

from app.db import list_entries as list_db
from app.db import ratings as ratings_db
from app.db.common import count
from app.db.indexes import ensure_indexes
from app.errors import BadRequest
from app.services import list_import_service, list_service, rating_service
from app.services.list_import_service import import_mal_export
from tests.services.mal_exports import (
    BILLION_LAUGHS,
    SAMPLE_ENTRIES,
    anime_xml,
    entries_export,
    export_of,
    gzip_bomb,
    gzipped,
    sample_export,
)

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
IN_CATALOGUE = {anime_id: entry for anime_id, entry in SAMPLE_ENTRIES.items() if anime_id != 5114}


@pytest.fixture
def indexed_db(db, sample_anime):
    ensure_indexes(db)
    return db


@pytest.fixture
def user(indexed_db) -> ObjectId:
    return indexed_db.users.insert_one({"username": "alice"}).inserted_id


def counts(db) -> dict[str, int]:
    return {name: count(db[name]) for name in db.list_collection_names()}


def test_the_sample_export_round_trips(indexed_db, user) -> None:
    result = import_mal_export(user, sample_export(), db=indexed_db, now=T0)
    assert result == {
        "ratings_imported": 3,
        "ratings_updated": 0,
        "statuses_imported": 5,
        "unknown_anime": 1,
        "skipped": 0,
    }
    assert ratings_db.rating_map_for_user(indexed_db, user) == {
        anime_id: float(score) for anime_id, (score, _) in IN_CATALOGUE.items() if score
    }
    assert list_db.status_map_for_user(indexed_db, user) == {
        anime_id: status for anime_id, (_, status) in IN_CATALOGUE.items()
    }
    rating = indexed_db.ratings.find_one({"anime_id": 1})
    assert (rating["created_at"], rating["updated_at"]) == (T0, None)


def test_imported_changes_are_in_the_history_with_the_usual_actions(indexed_db, user) -> None:
    import_mal_export(user, sample_export(), db=indexed_db, now=T0)
    actions = Counter(entry["action"] for entry in indexed_db.watch_history.find())
    assert actions == {"rated": 3, "listed": 5}
    rated = indexed_db.watch_history.find_one({"action": "rated", "anime_id": 199})
    assert (rated["user_id"], rated["rating"], rated["previous_rating"]) == (user, 10, None)
    listed = indexed_db.watch_history.find_one({"action": "listed", "anime_id": 20})
    assert (listed["status"], listed["previous_status"]) == ("dropped", None)


def test_importing_the_same_file_again_changes_nothing(indexed_db, user) -> None:
    import_mal_export(user, sample_export(), db=indexed_db)
    stamp = indexed_db.users.find_one({"_id": user})["ratings_changed_at"]
    before = counts(indexed_db)
    again = import_mal_export(user, gzipped(sample_export()), db=indexed_db, declared_gzip=True)
    assert again == {
        "ratings_imported": 0,
        "ratings_updated": 0,
        "statuses_imported": 0,
        "unknown_anime": 1,
        "skipped": 0,
    }
    assert counts(indexed_db) == before
    assert indexed_db.users.find_one({"_id": user})["ratings_changed_at"] == stamp


def test_a_score_in_the_file_updates_the_rating_and_a_zero_leaves_it(indexed_db, user) -> None:
    rating_service.rate_anime(user, 1, 4, db=indexed_db)
    rating_service.rate_anime(user, 20, 6, db=indexed_db)
    list_service.set_status(user, 21, "not_interested", db=indexed_db)
    result = import_mal_export(user, sample_export(), db=indexed_db)
    assert (result["ratings_imported"], result["ratings_updated"]) == (2, 1)
    assert result["statuses_imported"] == 5
    assert ratings_db.rating_map_for_user(indexed_db, user)[1] == 9.0
    assert ratings_db.rating_map_for_user(indexed_db, user)[20] == 6.0  # my_score 0: unchanged
    assert list_db.status_map_for_user(indexed_db, user)[21] == "watching"
    assert count(indexed_db.ratings) == 4
    re_rated = indexed_db.watch_history.find_one({"action": "re-rated"})
    assert (re_rated["anime_id"], re_rated["rating"], re_rated["previous_rating"]) == (1, 9, 4)
    changed = indexed_db.watch_history.find_one({"action": "status_changed"})
    assert (changed["status"], changed["previous_status"]) == ("watching", "not_interested")


def test_an_import_stamps_the_user(indexed_db, user) -> None:
    import_mal_export(user, export_of(anime_xml(20, 0, "Plan to Watch")), db=indexed_db)
    assert indexed_db.users.find_one({"_id": user}).get("ratings_changed_at") is not None


def test_only_the_importing_users_data_changes(indexed_db, user) -> None:
    other = indexed_db.users.insert_one({"username": "bob"}).inserted_id
    rating_service.rate_anime(other, 1, 2, db=indexed_db)
    import_mal_export(user, sample_export(), db=indexed_db)
    assert ratings_db.rating_map_for_user(indexed_db, other) == {1: 2.0}
    assert list_db.status_map_for_user(indexed_db, other) == {}


def test_skipped_and_unknown_entries_are_counted(indexed_db, user) -> None:
    data = export_of(anime_xml(1, 7), anime_xml(1, 8), anime_xml("x"), anime_xml(424242, 5))
    result = import_mal_export(user, data, db=indexed_db)
    assert (result["skipped"], result["unknown_anime"], result["ratings_imported"]) == (2, 1, 1)
    assert ratings_db.rating_map_for_user(indexed_db, user) == {1: 8.0}


def test_a_concurrent_write_of_the_same_anime_wins_and_the_import_goes_on(
    indexed_db, user, monkeypatch
) -> None:
    real_insert_many = ratings_db.insert_many

    def insert_after_someone_else(db, documents):
        rating_service.rate_anime(user, 21, 3, db=db)  # lands between the read and the write
        return real_insert_many(db, documents)

    monkeypatch.setattr(list_import_service.ratings_db, "insert_many", insert_after_someone_else)
    result = import_mal_export(user, sample_export(), db=indexed_db)
    assert result["ratings_imported"] == 2
    assert ratings_db.rating_map_for_user(indexed_db, user) == {1: 9.0, 21: 3.0, 199: 10.0}
    rated = sorted(e["anime_id"] for e in indexed_db.watch_history.find({"action": "rated"}))
    assert rated == [1, 21, 199]  # 21 once: the concurrent rating's own entry


@pytest.mark.parametrize(
    ("data", "declared_gzip", "limits"),
    [
        (b"not xml at all", False, {}),
        (sample_export(), True, {}),
        (BILLION_LAUGHS, False, {}),
        (entries_export(6), False, {"max_entries": 5}),
        (gzip_bomb(2 * 1024 * 1024), False, {"max_xml_bytes": 1024 * 1024}),
    ],
    ids=["not-xml", "fake-gzip", "xml-bomb", "too-many-entries", "too-large"],
)
def test_a_bad_file_is_a_bad_request_and_writes_nothing(
    indexed_db, user, data: bytes, declared_gzip: bool, limits: dict
) -> None:
    import_mal_export(user, export_of(anime_xml(1, 5)), db=indexed_db)
    before = counts(indexed_db)
    stamp = indexed_db.users.find_one({"_id": user})["ratings_changed_at"]
    with pytest.raises(BadRequest, match="invalid MyAnimeList export"):
        import_mal_export(user, data, db=indexed_db, declared_gzip=declared_gzip, **limits)
    assert counts(indexed_db) == before
    assert indexed_db.users.find_one({"_id": user})["ratings_changed_at"] == stamp
