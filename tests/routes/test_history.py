"""GET /api/history and /api/history/<user_id>."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from app.db import watch_history


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_own_history_records_rate_rerate_and_delete_newest_first(
    client, sample_anime, alice, token_for
) -> None:
    headers = token_for(alice)
    rating_id = client.post(
        "/api/ratings", json={"anime_id": 20, "rating": 6}, headers=headers
    ).get_json()["rating_id"]
    client.post("/api/ratings", json={"anime_id": 20, "rating": 9}, headers=headers)
    assert client.delete(f"/api/ratings/{rating_id}", headers=headers).status_code == 204

    response = client.get("/api/history", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    entries = body["history"]
    assert [entry["action"] for entry in entries] == ["rating_deleted", "re-rated", "rated"]
    assert [(entry["rating"], entry["previous_rating"]) for entry in entries] == [
        (None, 9),
        (9, 6),
        (6, None),
    ]
    assert all(entry["user_id"] == str(alice["_id"]) for entry in entries)
    assert entries[0]["anime"] == {
        "anime_id": 20,
        "name": "Naruto",
        "genre": "Action, Comedy, Martial Arts, Shounen, Super Power",
        "type": "TV",
    }


def test_imported_watched_entries_are_listed(client, db, sample_anime, alice, token_for) -> None:
    watch_history.insert_many(
        db,
        [
            {
                "user_id": alice["_id"],
                "anime_id": anime_id,
                "action": watch_history.WATCHED,
                "rating": None,
                "created_at": datetime(2020, 1, day, tzinfo=UTC),
            }
            for day, anime_id in ((1, 1), (2, 21), (3, 999))
        ],
    )
    body = client.get("/api/history?limit=2", headers=token_for(alice)).get_json()
    assert (body["total"], body["pages"]) == (3, 2)
    assert [entry["anime_id"] for entry in body["history"]] == [999, 21]
    assert body["history"][0]["anime"] is None
    assert body["history"][1]["action"] == "watched"
    assert body["history"][1]["previous_rating"] is None
    assert body["history"][1]["created_at"] == "2020-01-02T00:00:00+00:00"
    beyond = client.get("/api/history?page=3&limit=2", headers=token_for(alice)).get_json()
    assert beyond["history"] == []


def test_user_history_for_self_and_admin_only(client, alice, make_user, token_for) -> None:
    path = f"/api/history/{alice['_id']}"
    assert client.get(path, headers=token_for(alice)).status_code == 200
    bob = make_user("bob")
    forbidden = client.get(path, headers=token_for(bob))
    assert forbidden.status_code == 403
    assert "error" in forbidden.get_json()
    admin = make_user("root", is_admin=True)
    assert client.get(path, headers=token_for(admin)).status_code == 200


@pytest.mark.parametrize(("user_id", "status"), [("bad-id", 400), (str(ObjectId()), 404)])
def test_user_history_bad_or_unknown_user_for_an_admin(
    client, make_user, token_for, user_id, status
) -> None:
    admin = make_user("root", is_admin=True)
    response = client.get(f"/api/history/{user_id}", headers=token_for(admin))
    assert response.status_code == status
    assert "error" in response.get_json()


@pytest.mark.parametrize("path", ["/api/history", f"/api/history/{ObjectId()}"])
def test_history_needs_a_token(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert "error" in response.get_json()


@pytest.mark.parametrize("query", ["page=0", "limit=0", "limit=101", "page=x"])
def test_history_pagination_is_validated(client, alice, token_for, query: str) -> None:
    response = client.get(f"/api/history?{query}", headers=token_for(alice))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("invalid input")
