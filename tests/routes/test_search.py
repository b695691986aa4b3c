"""GET /api/search (keyword here; semantic answers 503 until its index is built)."""

from __future__ import annotations

import pytest

MORE_ANIME = [
    {"anime_id": 1735, "name": "Naruto: Shippuuden", "genre": "Action, Shounen", "members": 533578},
    {"anime_id": 28755, "name": "Boruto: Naruto the Movie", "genre": "Action", "members": 74690},
    {"anime_id": 442, "name": "Naruto Movie 1", "genre": "Adventure", "members": 89000},
]


@pytest.fixture
def catalogue(db, sample_anime):
    db.anime.insert_many([dict(doc) for doc in MORE_ANIME])


def names(response) -> list[str]:
    return [anime["name"] for anime in response.get_json()["results"]]


def test_keyword_search_ranks_prefix_before_substring_without_duplicates(client, catalogue):
    response = client.get("/api/search?q=naruto&type=keyword")
    assert response.status_code == 200
    body = response.get_json()
    assert body["search_type"] == "keyword"
    assert names(response) == [
        "Naruto",
        "Naruto: Shippuuden",
        "Naruto Movie 1",
        "Boruto: Naruto the Movie",
    ]
    assert body["results"][0] == {
        "anime_id": 20,
        "name": "Naruto",
        "genre": "Action, Comedy, Martial Arts, Shounen, Super Power",
        "type": "TV",
        "episodes": 220,
        "rating": 7.81,
        "members": 683297,
        "description": None,
    }


def test_partial_words_and_case(client, catalogue) -> None:
    assert names(client.get("/api/search?q=NARUT"))[0] == "Naruto"
    assert names(client.get("/api/search?q=chihiro")) == ["Sen to Chihiro no Kamikakushi"]


def test_keyword_is_the_default_type_and_limit_applies(client, catalogue) -> None:
    response = client.get("/api/search?q=naruto&limit=2")
    assert response.get_json()["search_type"] == "keyword"
    assert names(response) == ["Naruto", "Naruto: Shippuuden"]


def test_genre_filter_on_search(client, catalogue) -> None:
    response = client.get("/api/search", query_string={"q": "naruto", "genre": "shounen"})
    assert names(response) == ["Naruto", "Naruto: Shippuuden"]


@pytest.mark.parametrize("q", [".*", "(", "[a-", "\\", "$where"])
def test_regex_characters_are_taken_literally(client, catalogue, q: str) -> None:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "naruto", "type": "fuzzy"},
        {"q": "naruto", "limit": "0"},
        {"q": "naruto", "limit": "101"},
    ],
)
def test_invalid_search_arguments_are_400(client, catalogue, query: dict) -> None:
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("invalid input")


def test_query_of_200_characters_is_accepted(client, catalogue) -> None:
    response = client.get("/api/search", query_string={"q": "n" * 200})
    assert response.status_code == 200
    assert response.get_json()["results"] == []


def test_semantic_search_is_503_until_its_index_is_built(client, catalogue) -> None:
    response = client.get("/api/search?q=ninja+boy&type=semantic")
    assert response.status_code == 503
    assert "semantic search index is not built" in response.get_json()["error"]


class FakeIndex:
    def search(self, query: str, k: int, genres=()) -> list[tuple[int, float]]:
        return [(199, 0.9), (20, 0.5)][:k]


def test_search_dispatches_semantic_to_the_apps_index(app, client, catalogue) -> None:
    app.extensions["search_index"] = FakeIndex()
    body = client.get("/api/search?q=spirits&type=semantic").get_json()
    assert body["search_type"] == "semantic"
    assert [row["anime_id"] for row in body["results"]] == [199, 20]
