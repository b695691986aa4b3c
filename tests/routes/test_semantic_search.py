"""GET /api/search?type=semantic and POST /api/admin/search-index/update."""

from __future__ import annotations

import os

import pytest

from tests.ml.fake_encoder import HashingEncoder
from tests.routes.semantic_fixtures import build_index

UPDATE = "/api/admin/search-index/update"
COOKING_ANIME = {
    "anime_id": 9,
    "name": "Shokugeki",
    "genre": "Ecchi",
    "type": "TV",
    "members": 9,
    "description": "A cooking contest where a ramen chef battles.",
}


def search(client, q: str, **params):
    return client.get("/api/search", query_string={"q": q, "type": "semantic", **params})


def test_503_with_a_clear_message_until_the_index_is_built(client, semantic_catalogue) -> None:
    response = search(client, "pirates")
    assert response.status_code == 503
    assert "index is not built" in response.get_json()["error"]
    assert "build_faiss_index" in response.get_json()["error"]


def test_semantic_results_carry_the_anime_and_its_similarity(client, semantic_index) -> None:
    response = search(client, "pirate crew hunting treasure", limit=3)
    assert response.status_code == 200
    body = response.get_json()
    assert body["search_type"] == "semantic"
    assert len(body["results"]) == 3
    first = body["results"][0]
    assert first["anime_id"] == 21
    assert first["name"] == "One Piece"
    assert first["description"].startswith("A pirate crew")
    assert all(-1 <= row["similarity_score"] <= 1 for row in body["results"])


def test_genre_filter_applies_to_semantic_results(client, semantic_index) -> None:
    body = search(client, "a girl and spirits", genre="Mecha", limit=5).get_json()
    assert {row["anime_id"] for row in body["results"]} == {30, 1575}


@pytest.mark.parametrize(
    "params",
    [{"q": ""}, {"q": "   "}, {"q": "x" * 201}, {"q": "ok", "limit": 0}, {"q": "ok", "limit": "a"}],
)
def test_query_is_validated_as_for_keyword_search(client, semantic_index, params) -> None:
    response = client.get("/api/search", query_string={"type": "semantic", **params})
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("invalid input")


def test_a_rebuilt_index_is_picked_up_without_restart(
    app, client, db, semantic_index, search_encoder
) -> None:
    assert search(client, "cooking contest ramen").get_json()["results"][0]["anime_id"] != 9
    db.anime.insert_one(dict(COOKING_ANIME))
    service = build_index(app, db, search_encoder)
    meta = service.meta_path(service.index_path)
    stat = meta.stat()
    os.utime(meta, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert search(client, "cooking contest ramen").get_json()["results"][0]["anime_id"] == 9


def test_admin_update_makes_new_and_changed_anime_searchable(
    client, db, semantic_index, search_encoder: HashingEncoder, make_user, token_for
) -> None:
    admin = token_for(make_user("root", is_admin=True))
    db.anime.insert_one(dict(COOKING_ANIME))
    db.anime.update_one({"anime_id": 20}, {"$set": {"description": "A baseball team trains."}})
    before = search_encoder.encoded
    response = client.post(UPDATE, json={}, headers=admin)
    assert response.status_code == 200
    assert response.get_json() == {"updated": 2, "anime_ids": [9, 20], "indexed": 7}
    assert search_encoder.encoded - before == 2
    assert search(client, "cooking contest ramen").get_json()["results"][0]["anime_id"] == 9
    assert search(client, "baseball team").get_json()["results"][0]["anime_id"] == 20
    again = client.post(UPDATE, json={"anime_ids": [20, 21]}, headers=admin)
    assert again.get_json()["updated"] == 0


def test_update_is_503_without_an_index(client, semantic_catalogue, make_user, token_for) -> None:
    admin = token_for(make_user("root", is_admin=True))
    assert client.post(UPDATE, json={}, headers=admin).status_code == 503


@pytest.mark.parametrize("body", [{"anime_ids": []}, {"anime_ids": ["x"]}, {"anime_ids": 3}])
def test_update_validates_its_body(client, semantic_index, make_user, token_for, body) -> None:
    admin = token_for(make_user("root", is_admin=True))
    assert client.post(UPDATE, json=body, headers=admin).status_code == 400


def test_update_is_for_admins_only(client, semantic_index, make_user, token_for) -> None:
    assert client.post(UPDATE, json={}).status_code == 401
    user = token_for(make_user("alice"))
    assert client.post(UPDATE, json={}, headers=user).status_code == 403
