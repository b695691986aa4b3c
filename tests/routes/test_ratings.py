"""POST /api/ratings, DELETE /api/ratings/<id>, GET /api/ratings/user/<user_id>."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

RATING_KEYS = {"rating_id", "user_id", "anime_id", "rating", "created_at", "updated_at"}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def alice_headers(alice, token_for):
    return token_for(alice)


def test_first_rating_is_201_with_the_rating_body(client, db, sample_anime, alice, alice_headers):
    response = client.post(
        "/api/ratings", json={"anime_id": 20, "rating": 8}, headers=alice_headers
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == RATING_KEYS
    assert body["user_id"] == str(alice["_id"])
    assert (body["anime_id"], body["rating"], body["updated_at"]) == (20, 8, None)
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)
    stored = db.ratings.find_one({"_id": ObjectId(body["rating_id"])})
    assert (stored["user_id"], stored["anime_id"], stored["rating"]) == (alice["_id"], 20, 8)


def test_rating_again_updates_the_same_rating(client, db, sample_anime, alice_headers) -> None:
    first = client.post("/api/ratings", json={"anime_id": 20, "rating": 8}, headers=alice_headers)
    second = client.post("/api/ratings", json={"anime_id": 20, "rating": 3}, headers=alice_headers)
    assert second.status_code == 200
    body = second.get_json()
    assert set(body) == RATING_KEYS
    assert body["rating_id"] == first.get_json()["rating_id"]
    assert body["rating"] == 3
    assert body["created_at"] == first.get_json()["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) >= datetime.fromisoformat(body["created_at"])
    assert db.ratings.count_documents({}) == 1
    assert db.ratings.find_one()["rating"] == 3


def test_rating_an_unknown_anime_is_404_and_writes_nothing(client, db, alice_headers) -> None:
    response = client.post(
        "/api/ratings", json={"anime_id": 42, "rating": 8}, headers=alice_headers
    )
    assert response.status_code == 404
    assert "error" in response.get_json()
    assert db.ratings.count_documents({}) == 0
    assert db.watch_history.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"anime_id": 20, "rating": 0},
        {"anime_id": 20, "rating": 11},
        {"anime_id": 20, "rating": 7.5},
        {"anime_id": 20, "rating": "7"},
        {"anime_id": 20, "rating": True},
        {"anime_id": 20, "rating": None},
        {"anime_id": "20", "rating": 7},
        {"anime_id": 0, "rating": 7},
        {"anime_id": 20},
        {"rating": 7},
        {"anime_id": 20, "rating": 7, "user_id": "someone-else"},
        [],
    ],
)
def test_invalid_rating_bodies_are_400_and_write_nothing(
    client, db, sample_anime, alice_headers, body
) -> None:
    response = client.post("/api/ratings", json=body, headers=alice_headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("invalid input")
    assert db.ratings.count_documents({}) == 0


def test_non_json_body_is_400(client, db, sample_anime, alice_headers) -> None:
    response = client.post(
        "/api/ratings", data="anime_id=20", headers=alice_headers, content_type="text/plain"
    )
    assert response.status_code in {400, 415}
    assert "error" in response.get_json()
    assert db.ratings.count_documents({}) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/ratings"), ("delete", f"/api/ratings/{ObjectId()}")],
)
def test_protected_rating_routes_need_a_token(client, db, sample_anime, method, path) -> None:
    response = getattr(client, method)(path, json={"anime_id": 20, "rating": 8})
    assert response.status_code == 401
    assert "error" in response.get_json()
    assert db.ratings.count_documents({}) == 0


def _rate(client, headers, anime_id: int = 20, rating: int = 8) -> str:
    response = client.post(
        "/api/ratings", json={"anime_id": anime_id, "rating": rating}, headers=headers
    )
    return response.get_json()["rating_id"]


def test_owner_deletes_a_rating(client, db, sample_anime, alice_headers) -> None:
    rating_id = _rate(client, alice_headers)
    response = client.delete(f"/api/ratings/{rating_id}", headers=alice_headers)
    assert response.status_code == 204
    assert response.data == b""
    assert db.ratings.count_documents({}) == 0
    again = client.delete(f"/api/ratings/{rating_id}", headers=alice_headers)
    assert again.status_code == 404


def test_someone_else_cannot_delete_but_an_admin_can(
    client, db, sample_anime, alice_headers, make_user, token_for
) -> None:
    rating_id = _rate(client, alice_headers)
    bob = token_for(make_user("bob"))
    assert client.delete(f"/api/ratings/{rating_id}", headers=bob).status_code == 404
    assert db.ratings.count_documents({}) == 1
    admin = token_for(make_user("root", is_admin=True))
    assert client.delete(f"/api/ratings/{rating_id}", headers=admin).status_code == 204
    assert db.ratings.count_documents({}) == 0


@pytest.mark.parametrize(("rating_id", "status"), [("not-an-id", 400), (str(ObjectId()), 404)])
def test_delete_bad_or_unknown_rating(client, alice_headers, rating_id, status) -> None:
    response = client.delete(f"/api/ratings/{rating_id}", headers=alice_headers)
    assert response.status_code == status
    assert "error" in response.get_json()


def test_user_ratings_newest_first_with_anime_name_and_genre(client, db, sample_anime, alice):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    db.ratings.insert_many(
        [
            {"user_id": alice["_id"], "anime_id": 1, "rating": 9, "created_at": start},
            {
                "user_id": alice["_id"],
                "anime_id": 20,
                "rating": 7,
                "created_at": start + timedelta(days=2),
            },
            {
                "user_id": alice["_id"],
                "anime_id": 21,
                "rating": 8,
                "created_at": start + timedelta(days=1),
            },
            {"user_id": ObjectId(), "anime_id": 1, "rating": 2, "created_at": start},
        ]
    )
    response = client.get(f"/api/ratings/user/{alice['_id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    assert [rating["anime_id"] for rating in body["ratings"]] == [20, 21, 1]
    newest = body["ratings"][0]
    assert set(newest) == RATING_KEYS | {"anime"}  # the same rating object, with its anime
    assert newest["anime"]["name"] == "Naruto"
    assert newest["anime"]["genre"].startswith("Action")
    assert newest["created_at"] == "2024-01-03T00:00:00+00:00"
    assert newest["updated_at"] is None
    page_two = client.get(f"/api/ratings/user/{alice['_id']}?limit=2&page=2").get_json()
    assert [rating["anime_id"] for rating in page_two["ratings"]] == [1]
    assert page_two["pages"] == 2


def test_user_ratings_of_a_user_without_ratings(client, alice) -> None:
    body = client.get(f"/api/ratings/user/{alice['_id']}").get_json()
    assert body == {"ratings": [], "total": 0, "page": 1, "pages": 0}


@pytest.mark.parametrize(
    ("user_id", "status"), [("nope", 400), ("1234", 400), (str(ObjectId()), 404)]
)
def test_user_ratings_of_bad_or_unknown_user(client, user_id, status) -> None:
    response = client.get(f"/api/ratings/user/{user_id}")
    assert response.status_code == status
    assert "error" in response.get_json()


def test_user_ratings_pagination_is_validated(client, alice) -> None:
    response = client.get(f"/api/ratings/user/{alice['_id']}?limit=500")
    assert response.status_code == 400
