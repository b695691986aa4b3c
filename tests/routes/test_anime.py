"""GET /api/anime, /api/anime/<id>, /api/anime/genres."""

from __future__ import annotations

import pytest
from bson import ObjectId

BY_RATING = [199, 1575, 1, 21, 20]


def ids(response) -> list[int]:
    return [anime["anime_id"] for anime in response.get_json()["anime"]]


def test_list_defaults_to_rating_desc_with_pagination_meta(client, sample_anime) -> None:
    response = client.get("/api/anime")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"anime", "total", "page", "pages"}
    assert (body["total"], body["page"], body["pages"]) == (5, 1, 1)
    assert ids(response) == BY_RATING


def test_anime_object_is_flat_with_null_description_and_no_unknown_image(
    client, sample_anime
) -> None:
    anime = client.get("/api/anime?sort=anime_id&order=asc").get_json()["anime"][0]
    assert anime == {
        "anime_id": 1,
        "name": "Cowboy Bebop",
        "genre": "Action, Adventure, Comedy, Drama, Sci-Fi, Space",
        "type": "TV",
        "episodes": 26,
        "rating": 8.82,
        "members": 486824,
        "description": None,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=name", [1575, 1, 20, 21, 199]),
        ("sort=name&order=desc", [199, 21, 20, 1, 1575]),
        ("sort=members", [1575, 20, 21, 1, 199]),
        ("sort=rating&order=asc", [20, 21, 1, 1575, 199]),
        ("sort=episodes", [20, 1, 1575, 199, 21]),
        ("sort=anime_id", [1575, 199, 21, 20, 1]),
        ("sort=anime_id&order=asc", [1, 20, 21, 199, 1575]),
    ],
)
def test_sort_and_order(client, sample_anime, query: str, expected: list[int]) -> None:
    response = client.get(f"/api/anime?{query}")
    assert response.status_code == 200
    assert ids(response) == expected


@pytest.mark.parametrize(
    ("genre", "expected"),
    [
        ("Shounen", [21, 20]),
        ("shounen", [21, 20]),
        ("Action,Sci-Fi", [1575, 1]),
        ("action, SCI-FI , ", [1575, 1]),
        ("Super", []),
        ("Shounen Ai", [5]),
        (".*", []),
    ],
)
def test_genre_filter_matches_whole_genres_all_of_them(
    client, db, sample_anime, genre: str, expected: list[int]
) -> None:
    db.anime.insert_one({"anime_id": 5, "name": "Gravitation", "genre": "Comedy, Shounen Ai"})
    response = client.get("/api/anime", query_string={"genre": genre})
    assert response.status_code == 200
    assert ids(response) == expected
    assert response.get_json()["total"] == len(expected)


def test_pages_and_a_page_past_the_end(client, sample_anime) -> None:
    first = client.get("/api/anime?limit=2").get_json()
    assert (first["total"], first["pages"], len(first["anime"])) == (5, 3, 2)
    last = client.get("/api/anime?limit=2&page=3").get_json()
    assert [anime["anime_id"] for anime in last["anime"]] == BY_RATING[4:]
    beyond = client.get("/api/anime?limit=2&page=4")
    assert beyond.status_code == 200
    assert beyond.get_json() == {"anime": [], "total": 5, "page": 4, "pages": 3}


def test_empty_catalogue_has_zero_pages(client) -> None:
    assert client.get("/api/anime").get_json() == {"anime": [], "total": 0, "page": 1, "pages": 0}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("sort=popularity", "sort"),
        ("order=sideways", "order"),
        ("genre=" + ",".join(f"g{i}" for i in range(11)), "genre"),
        ("genre=" + "x" * 101, "genre"),
    ],
)
def test_invalid_list_arguments_are_400(client, sample_anime, query: str, field: str) -> None:
    response = client.get(f"/api/anime?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"invalid input: {field}")


def test_detail_with_users_rating_stats(client, db, sample_anime) -> None:
    db.ratings.insert_many(
        [
            {"user_id": ObjectId(), "anime_id": 20, "rating": 7},
            {"user_id": ObjectId(), "anime_id": 20, "rating": 10},
            {"user_id": ObjectId(), "anime_id": 20, "rating": 8},
            {"user_id": ObjectId(), "anime_id": 1, "rating": 1},
        ]
    )
    body = client.get("/api/anime/20").get_json()
    assert body["name"] == "Naruto"
    assert body["user_rating_count"] == 3
    assert body["user_avg_rating"] == 8.33
    assert body["description"] is None
    assert "image_url" not in body


def test_detail_without_ratings_and_with_known_image(client, db) -> None:
    db.anime.insert_one(
        {
            "anime_id": 7,
            "name": "Seven",
            "genre": None,
            "type": "OVA",
            "episodes": None,
            "rating": None,
            "members": 3,
            "description": "A synopsis.",
            "image_url": "https://img.example/7.jpg",
        }
    )
    body = client.get("/api/anime/7").get_json()
    assert body["user_rating_count"] == 0
    assert body["user_avg_rating"] is None
    assert body["description"] == "A synopsis."
    assert body["image_url"] == "https://img.example/7.jpg"
    assert body["genre"] is None


@pytest.mark.parametrize("path", ["/api/anime/999", "/api/anime/abc", "/api/anime/-1"])
def test_unknown_anime_is_404_json(client, sample_anime, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_genres_with_counts(client, db, sample_anime) -> None:
    db.anime.insert_many(
        [{"anime_id": 5, "name": "No genre", "genre": None}, {"anime_id": 6, "name": "Empty"}]
    )
    genres = client.get("/api/anime/genres").get_json()["genres"]
    counts = {row["genre"]: row["count"] for row in genres}
    assert counts["Action"] == 4
    assert counts["Shounen"] == 2
    assert counts["Super Power"] == 3
    assert counts["Supernatural"] == 1
    assert len(counts) == 14
    assert [row["genre"] for row in genres] == sorted(counts)


def test_genres_are_cached_per_app(client, db, sample_anime) -> None:
    first = client.get("/api/anime/genres").get_json()
    db.anime.insert_one({"anime_id": 8, "name": "New", "genre": "Josei"})
    assert client.get("/api/anime/genres").get_json() == first
