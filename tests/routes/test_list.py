"""PUT /api/list/<anime_id>, DELETE /api/list/<anime_id>, GET /api/list."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.db.common import count
from app.db.list_entries import STATUSES

ENTRY_KEYS = {"anime_id", "status", "updated_at"}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def headers(alice, token_for):
    return token_for(alice)


def put(client, headers, anime_id: int, status: str):
    return client.put(f"/api/list/{anime_id}", json={"status": status}, headers=headers)


@pytest.mark.parametrize("status", STATUSES)
def test_first_put_is_201_then_200(client, db, sample_anime, alice, headers, status) -> None:
    first = put(client, headers, 20, status)
    assert first.status_code == 201
    body = first.get_json()
    assert set(body) == ENTRY_KEYS
    assert (body["anime_id"], body["status"]) == (20, status)
    assert datetime.fromisoformat(body["updated_at"]).utcoffset() == timedelta(0)
    stored = db.list_entries.find_one()
    assert (stored["user_id"], stored["anime_id"], stored["status"]) == (alice["_id"], 20, status)
    other = "dropped" if status != "dropped" else "completed"
    second = put(client, headers, 20, other)
    assert second.status_code == 200
    assert second.get_json()["status"] == other
    assert count(db.list_entries) == 1


def test_the_same_status_again_is_200_and_records_nothing_new(client, db, sample_anime, headers):
    put(client, headers, 1, "watching")
    response = put(client, headers, 1, "watching")
    assert response.status_code == 200
    assert count(db.watch_history) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"status": "finished"},
        {"status": "Watching"},
        {"status": "on-hold"},
        {"status": ""},
        {"status": None},
        {"status": 1},
        {"status": ["watching"]},
        {},
        {"status": "watching", "rating": 9},
    ],
)
def test_any_other_status_is_400_naming_the_valid_ones(client, db, sample_anime, headers, body):
    response = client.put("/api/list/1", json=body, headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error.startswith("invalid input")
    if body.get("status") in ("finished", "Watching", "on-hold", ""):
        assert all(status in error for status in STATUSES), error
    assert count(db.list_entries) == 0
    assert count(db.watch_history) == 0


@pytest.mark.parametrize("anime_id", [42, 0, 2**63 - 1])
def test_unknown_anime_is_404_and_writes_nothing(client, db, sample_anime, headers, anime_id):
    response = put(client, headers, anime_id, "watching")
    assert response.status_code == 404
    assert "error" in response.get_json()
    assert count(db.list_entries) == 0


def test_an_id_beyond_64_bits_is_404(client, db, sample_anime, headers) -> None:
    response = put(client, headers, 2**63, "watching")
    assert response.status_code == 404
    assert "error" in response.get_json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/list"), ("put", "/api/list/1"), ("delete", "/api/list/1")],
)
def test_list_routes_need_a_token(client, db, sample_anime, method, path) -> None:
    response = getattr(client, method)(path, json={"status": "watching"})
    assert response.status_code == 401
    assert "error" in response.get_json()
    assert count(db.list_entries) == 0


def test_delete_is_204_then_404(client, db, sample_anime, headers) -> None:
    put(client, headers, 1, "dropped")
    response = client.delete("/api/list/1", headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    assert count(db.list_entries) == 0
    again = client.delete("/api/list/1", headers=headers)
    assert again.status_code == 404
    assert "not on your list" in again.get_json()["error"]


def test_another_users_entry_is_neither_listed_nor_deletable(
    client, db, sample_anime, headers, make_user, token_for
) -> None:
    put(client, headers, 1, "completed")
    bob = token_for(make_user("bob"))
    assert client.get("/api/list", headers=bob).get_json()["total"] == 0
    assert client.delete("/api/list/1", headers=bob).status_code == 404
    assert count(db.list_entries) == 1


def test_a_rating_and_a_status_live_side_by_side(client, db, sample_anime, headers) -> None:
    rating_id = client.post(
        "/api/ratings", json={"anime_id": 1, "rating": 9}, headers=headers
    ).get_json()["rating_id"]
    put(client, headers, 1, "completed")
    assert client.delete("/api/list/1", headers=headers).status_code == 204
    assert count(db.ratings) == 1
    put(client, headers, 1, "completed")
    assert client.delete(f"/api/ratings/{rating_id}", headers=headers).status_code == 204
    assert (
        client.get("/api/list", headers=headers).get_json()["entries"][0]["status"] == "completed"
    )


def test_every_change_is_in_the_history(client, sample_anime, headers) -> None:
    put(client, headers, 20, "watching")
    put(client, headers, 20, "dropped")
    client.delete("/api/list/20", headers=headers)
    history = client.get("/api/history", headers=headers).get_json()["history"]
    assert [(h["action"], h["status"], h["previous_status"]) for h in history] == [
        ("unlisted", None, "dropped"),
        ("status_changed", "dropped", "watching"),
        ("listed", "watching", None),
    ]
    assert history[0]["anime"]["name"] == "Naruto"


def test_every_change_stamps_the_user(client, db, sample_anime, alice, headers) -> None:
    def stamp():
        return db.users.find_one({"_id": alice["_id"]}).get("ratings_changed_at")

    put(client, headers, 20, "watching")
    first = stamp()
    assert first is not None
    put(client, headers, 20, "not_interested")
    assert stamp() >= first
    db.users.update_one({"_id": alice["_id"]}, {"$unset": {"ratings_changed_at": ""}})
    client.delete("/api/list/20", headers=headers)
    assert stamp() is not None


def test_the_list_is_newest_first_with_anime_and_filters_by_status(
    client, sample_anime, headers
) -> None:
    for anime_id, status in [(1, "completed"), (20, "dropped"), (21, "completed")]:
        put(client, headers, anime_id, status)
    put(client, headers, 1, "watching")  # changed last: first in the list
    body = client.get("/api/list", headers=headers).get_json()
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    assert [e["anime_id"] for e in body["entries"]] == [1, 21, 20]
    assert set(body["entries"][0]) == ENTRY_KEYS | {"anime"}
    assert body["entries"][1]["anime"]["name"] == "One Piece"
    completed = client.get("/api/list?status=completed", headers=headers).get_json()
    assert [e["anime_id"] for e in completed["entries"]] == [21]


def test_the_list_is_paginated(client, sample_anime, headers) -> None:
    for anime_id in (1, 20, 21, 199, 1575):
        put(client, headers, anime_id, "plan_to_watch")
    pages = [
        client.get(f"/api/list?page={page}&limit=2", headers=headers).get_json()
        for page in (1, 2, 3, 4)
    ]
    assert [(p["total"], p["page"], p["pages"]) for p in pages] == [
        (5, 1, 3),
        (5, 2, 3),
        (5, 3, 3),
        (5, 4, 3),
    ]
    assert [len(p["entries"]) for p in pages] == [2, 2, 1, 0]
    ids = [e["anime_id"] for p in pages for e in p["entries"]]
    assert sorted(ids) == [1, 20, 21, 199, 1575]


@pytest.mark.parametrize(
    "query", ["status=finished", "status=", "page=0", "limit=101", "limit=abc"]
)
def test_bad_list_arguments_are_400(client, sample_anime, headers, query) -> None:
    response = client.get(f"/api/list?{query}", headers=headers)
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["error"]
