"""Catalogue, ratings, history and keyword search on the embedded server (or MONGODB_TEST_URI)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from flask_jwt_extended import create_access_token
from pymongo import MongoClient

from app import create_app
from app.config import TestingConfig
from app.db import anime as anime_db
from app.db import ratings as ratings_db
from app.db import watch_history
from app.db.indexes import ensure_indexes
from app.services import anime_service, history_service, rating_service, search_service
from tests.conftest import SAMPLE_ANIME

pytestmark = pytest.mark.integration

MORE_ANIME = [
    {"anime_id": 1735, "name": "Naruto: Shippuuden", "genre": "Action, Shounen", "members": 533578},
    {"anime_id": 28755, "name": "Boruto: Naruto the Movie", "genre": "Action", "members": 74690},
    {"anime_id": 5, "name": "Gravitation", "genre": "Comedy, Shounen Ai", "members": 1000},
]


@pytest.fixture
def catalogue(real_db):
    ensure_indexes(real_db)
    real_db.anime.insert_many([dict(doc) for doc in SAMPLE_ANIME + MORE_ANIME])
    return real_db


def test_text_index_search_ranks_by_score(catalogue) -> None:
    found = anime_db.search_text(catalogue, "naruto", 10)
    assert found is not None
    assert {doc["anime_id"] for doc in found} == {20, 1735, 28755}
    assert all("score" not in doc and "_id" not in doc for doc in found)
    assert found[0]["anime_id"] == 20


def test_keyword_search_text_then_partial_words(catalogue) -> None:
    results = search_service.keyword_search("naruto", 10, db=catalogue)
    assert [row["anime_id"] for row in results][0] == 20
    assert sorted(row["anime_id"] for row in results) == [20, 1735, 28755]
    partial = search_service.keyword_search("narut", 10, db=catalogue)
    assert [row["anime_id"] for row in partial] == [20, 1735, 28755]
    shounen = search_service.keyword_search("naruto", 10, ["shounen"], db=catalogue)
    assert sorted(row["anime_id"] for row in shounen) == [20, 1735]


def test_several_genres_are_one_inline_regex_matching_whole_genres(catalogue) -> None:
    query = anime_db.genre_filter(["action", "SHOUNEN"])
    assert list(query) == ["genre"] and list(query["genre"]) == ["$regex"]  # no $and, no $options
    assert anime_db.count_matching(catalogue, query) == 3
    comedy_shounen = anime_db.genre_filter(["Comedy", "Shounen"])  # not Gravitation's Shounen Ai
    page = anime_db.find_page(
        catalogue, comedy_shounen, sort_field="anime_id", descending=False, skip=0, limit=10
    )
    assert [doc["anime_id"] for doc in page] == [20, 21]


def test_genre_filter_sort_and_count(catalogue) -> None:
    query = anime_db.genre_filter(["shounen"])
    assert anime_db.count_matching(catalogue, query) == 3
    page = anime_db.find_page(
        catalogue, query, sort_field="members", descending=True, skip=0, limit=2
    )
    assert [doc["anime_id"] for doc in page] == [20, 1735]
    assert anime_db.count_matching(catalogue, anime_db.genre_filter(["Shounen Ai"])) == 1
    assert anime_db.count_matching(catalogue, anime_db.genre_filter([".*"])) == 0


def test_list_anime_and_genres(catalogue) -> None:
    result = anime_service.list_anime(db=catalogue, page=2, limit=3, sort="name")
    assert [anime["name"] for anime in result["anime"]] == [
        "Gravitation",
        "Naruto",
        "Naruto: Shippuuden",
    ]
    assert (result["total"], result["pages"]) == (8, 3)
    counts = {
        row["genre"]: row["count"] for row in anime_service.list_genres(db=catalogue)["genres"]
    }
    assert (counts["Action"], counts["Shounen"], counts["Shounen Ai"]) == (6, 3, 1)


def test_ratings_unique_index_turns_a_second_rating_into_an_update(catalogue) -> None:
    user = ObjectId()
    first, created = rating_service.rate_anime(user, 20, 6, db=catalogue)
    second, created_again = rating_service.rate_anime(user, 20, 10, db=catalogue)
    assert (created, created_again) == (True, False)
    assert second["rating_id"] == first["rating_id"]
    assert isinstance(second["updated_at"], datetime)
    assert second["updated_at"].tzinfo is not None
    assert ratings_db.count_by_user(catalogue, user) == 1
    assert ratings_db.stats_for_anime(catalogue, 20) == (1, 10.0)
    assert ratings_db.stats_for_anime(catalogue, 1) == (0, None)


def test_history_and_user_ratings_on_the_server(catalogue) -> None:
    user = catalogue.users.insert_one({"username": "erin"}).inserted_id
    watch_history.insert_many(
        catalogue,
        [
            {
                "user_id": user,
                "anime_id": 1,
                "action": "watched",
                "rating": None,
                "created_at": datetime(2020, 1, 1, tzinfo=UTC),
            }
        ],
    )
    rating, _ = rating_service.rate_anime(user, 21, 8, db=catalogue)
    rating_service.delete_rating(rating["rating_id"], user_id=user, is_admin=False, db=catalogue)
    rating_service.rate_anime(user, 199, 9, db=catalogue)
    history = history_service.list_history(
        user, caller_id=user, caller_is_admin=False, db=catalogue, page=1, limit=10
    )
    assert [entry["action"] for entry in history["history"]] == [
        "rated",
        "rating_deleted",
        "rated",
        "watched",
    ]
    assert history["history"][0]["created_at"].tzinfo is not None
    assert watch_history.count_by_user(catalogue, user) == 4
    assert [
        e["anime_id"] for e in watch_history.find_by_user(catalogue, user, skip=1, limit=2)
    ] == [
        21,
        21,
    ]
    ratings = rating_service.list_user_ratings(user, db=catalogue, page=1, limit=10)
    assert [row["anime"]["name"] for row in ratings["ratings"]] == ["Sen to Chihiro no Kamikakushi"]


@pytest.fixture
def app_on_server(mongodb_uri):
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    app = create_app(
        TestingConfig(
            {"MONGODB_URI": mongodb_uri, "MONGODB_DB": name, "RATELIMIT_ENABLED": "false"}
        )
    )
    client: MongoClient = MongoClient(mongodb_uri, tz_aware=True)
    client[name].anime.insert_many([dict(doc) for doc in SAMPLE_ANIME + MORE_ANIME])
    try:
        yield app, client[name]
    finally:
        client.drop_database(name)
        client.close()


def _headers(app, user_id: ObjectId) -> dict[str, str]:
    with app.app_context():
        return {"Authorization": f"Bearer {create_access_token(identity=str(user_id))}"}


def test_end_to_end_rate_browse_search_and_history(app_on_server) -> None:
    app, db = app_on_server
    client = app.test_client()
    user = db.users.insert_one({"username": "frank", "is_admin": False}).inserted_id
    headers = _headers(app, user)

    created = client.post("/api/ratings", json={"anime_id": 20, "rating": 7}, headers=headers)
    assert created.status_code == 201
    updated = client.post("/api/ratings", json={"anime_id": 20, "rating": 9}, headers=headers)
    assert updated.status_code == 200
    assert updated.get_json()["rating_id"] == created.get_json()["rating_id"]
    assert (
        client.post("/api/ratings", json={"anime_id": 9, "rating": 9}, headers=headers).status_code
        == 404
    )

    detail = client.get("/api/anime/20").get_json()
    assert (detail["user_rating_count"], detail["user_avg_rating"]) == (1, 9.0)
    listing = client.get("/api/anime?genre=Shounen&sort=members&limit=2").get_json()
    assert [anime["anime_id"] for anime in listing["anime"]] == [20, 1735]
    assert (listing["total"], listing["pages"]) == (3, 2)

    search = client.get("/api/search?q=naruto").get_json()
    assert search["results"][0]["name"] == "Naruto"
    assert len({row["anime_id"] for row in search["results"]}) == len(search["results"]) == 3

    ratings = client.get(f"/api/ratings/user/{user}").get_json()
    assert ratings["ratings"][0]["anime"]["name"] == "Naruto"
    history = client.get("/api/history", headers=headers).get_json()
    assert [entry["action"] for entry in history["history"]] == ["re-rated", "rated"]

    other = _headers(app, db.users.insert_one({"username": "gina"}).inserted_id)
    rating_id = created.get_json()["rating_id"]
    assert client.delete(f"/api/ratings/{rating_id}", headers=other).status_code == 404
    assert client.get(f"/api/history/{user}", headers=other).status_code == 403
    assert client.delete(f"/api/ratings/{rating_id}", headers=headers).status_code == 204
    assert client.get("/api/anime/20").get_json()["user_rating_count"] == 0


@pytest.mark.parametrize("anime_id", [2**63, 2**64])
def test_anime_id_beyond_64_bits_is_404_not_an_encoding_error(app_on_server, anime_id) -> None:
    app, db = app_on_server
    client = app.test_client()
    user = db.users.insert_one({"username": "hank"}).inserted_id
    for path in (f"/api/anime/{anime_id}", f"/api/recommendations/{user}/similar/{anime_id}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "error" in response.get_json()
