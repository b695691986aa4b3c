"""GET /api/recommendations/<user_id>/similar/<anime_id>: CF + content blend."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.similar_service import CF_WEIGHT


class FakeItemCF:
    """Item-based CF neighbours of anime 30: 1575 and 21 (people who liked it liked those)."""

    NEIGHBOURS = {30: [(1575, 0.4), (21, 0.3), (20, 0.1)]}

    def neighbours(self, anime_id: Any, k: int = 10) -> list[tuple[Any, float]]:
        return self.NEIGHBOURS.get(anime_id, [])[:k]


class FakeRegistry:
    def __init__(self, models: dict[str, Any]):
        self.models = models

    def get(self, name: str) -> Any:
        if name not in self.models:
            raise LookupError(name)
        return self.models[name]


@pytest.fixture
def alice(make_user) -> dict[str, Any]:
    return make_user("alice")


def url(user: dict[str, Any] | str, anime_id: int, **params: Any) -> str:
    user_id = user if isinstance(user, str) else str(user["_id"])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/recommendations/{user_id}/similar/{anime_id}" + (f"?{query}" if query else "")


def ids(response) -> list[int]:
    return [item["anime_id"] for item in response.get_json()["similar_anime"]]


def test_content_neighbours_when_no_cf_model(client, semantic_index, alice) -> None:
    response = client.get(url(alice, 30, n=3))
    assert response.status_code == 200
    body = response.get_json()
    assert body["method"] == "content"
    assert body["anime_id"] == 30
    assert ids(response)[0] == 1575
    assert 30 not in ids(response)
    assert len(body["similar_anime"]) == 3
    first = body["similar_anime"][0]
    assert first["anime"]["name"] == "Code Geass"
    assert -1 <= first["similarity_score"] <= 1


def test_rated_anime_are_left_out(client, db, semantic_index, alice) -> None:
    db.ratings.insert_one({"user_id": alice["_id"], "anime_id": 1575, "rating": 9})
    assert 1575 not in ids(client.get(url(alice, 30, n=5)))


def test_watched_and_listed_anime_are_left_out(client, db, semantic_index, alice) -> None:
    first, second = ids(client.get(url(alice, 30, n=3)))[:2]
    db.watch_history.insert_one({"user_id": alice["_id"], "anime_id": first, "action": "watched"})
    db.list_entries.insert_one({"user_id": alice["_id"], "anime_id": second, "status": "dropped"})
    assert not {first, second} & set(ids(client.get(url(alice, 30, n=3))))


def test_hybrid_blends_cf_and_content(app, client, semantic_index, alice) -> None:
    app.extensions["model_registry"] = FakeRegistry({"item_based": FakeItemCF()})
    response = client.get(url(alice, 30, n=5))
    body = response.get_json()
    assert body["method"] == "hybrid"
    assert ids(response)[0] == 1575
    content = dict(semantic_index.similar(30, 10))
    score = body["similar_anime"][0]["similarity_score"]
    assert score == pytest.approx(CF_WEIGHT * 0.4 + (1 - CF_WEIGHT) * content[1575], abs=1e-4)
    scores = [item["similarity_score"] for item in body["similar_anime"]]
    assert scores == sorted(scores, reverse=True)


def test_collaborative_only_without_an_index(app, client, semantic_catalogue, alice):
    app.extensions["model_registry"] = FakeRegistry({"item_based": FakeItemCF()})
    response = client.get(url(alice, 30))
    assert response.get_json()["method"] == "collaborative"
    assert ids(response) == [1575, 21, 20]


def test_content_when_the_cf_model_does_not_know_the_anime(
    app, client, semantic_index, alice
) -> None:
    app.extensions["model_registry"] = FakeRegistry({"item_based": FakeItemCF()})
    assert client.get(url(alice, 199)).get_json()["method"] == "content"


def test_503_when_neither_source_can_answer(client, semantic_catalogue, alice) -> None:
    response = client.get(url(alice, 30))
    assert response.status_code == 503
    assert "search index" in response.get_json()["error"]


def test_unknown_anime_is_404(client, semantic_index, alice) -> None:
    response = client.get(url(alice, 424242))
    assert response.status_code == 404
    assert "anime 424242" in response.get_json()["error"]


def test_public_like_recommendations(client, semantic_index, alice) -> None:
    response = client.get(url(alice, 30, n=2))
    assert response.status_code == 200
    assert len(ids(response)) == 2


@pytest.mark.parametrize(
    ("user_id", "params", "status"),
    [
        ("not-an-id", {}, 400),
        ("5f0c2b9e8e4b7a1d2c3b4a59", {}, 404),
        (None, {"n": 0}, 400),
        (None, {"n": 51}, 400),
        (None, {"n": "x"}, 400),
    ],
)
def test_bad_input(client, semantic_index, alice, user_id, params, status) -> None:
    response = client.get(url(user_id or alice, 30, **params))
    assert response.status_code == status
    assert "error" in response.get_json()
