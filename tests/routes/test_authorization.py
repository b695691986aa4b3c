"""Authorization over every protected route (found from the app, not listed by hand).

No token, a garbage token, an expired token, a forged token and a deleted user's token are a JSON
401; a non-admin (or a demoted admin with an old token) on an admin route is a 403; one user's
data cannot be changed or deleted by another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from pymongo.database import Database

from app.db.common import count
from tests.routes.discovery import Route, api_routes

ROUTES = api_routes()
PROTECTED = [route for route in ROUTES if route.access]
ADMIN_ONLY = [route for route in ROUTES if route.access == "admin"]
BAD_TOKENS = ["none", "garbage", "not-bearer", "expired", "forged", "deleted-user"]


def counts(db: Database) -> dict[str, int]:
    return {name: count(db[name]) for name in db.list_collection_names()}


def call(client: FlaskClient, route: Route, headers: dict[str, str]) -> Any:
    body = {} if route.is_write else None
    return client.open(route.url(), method=route.method, json=body, headers=headers)


def bad_headers(case: str, app: Flask, user: dict[str, Any]) -> dict[str, str]:
    user_id = str(user["_id"])
    with app.app_context():
        expired = create_access_token(identity=user_id, expires_delta=timedelta(seconds=-5))
        valid = create_access_token(identity=user_id)
    forged = pyjwt.encode(
        {"sub": user_id, "type": "access", "fresh": False, "jti": "j", "is_admin": True},
        "an-attacker-key-that-is-at-least-32-bytes",
        algorithm="HS256",
    )
    return {
        "none": {},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "not-bearer": {"Authorization": valid},
        "expired": {"Authorization": f"Bearer {expired}"},
        "forged": {"Authorization": f"Bearer {forged}"},
        "deleted-user": {"Authorization": f"Bearer {valid}"},
    }[case]


LIST_ROUTES = {
    "GET /api/list",
    "PUT /api/list/<int(max=9223372036854775807):anime_id>",
    "DELETE /api/list/<int(max=9223372036854775807):anime_id>",
    "POST /api/list/import",
}


def test_routes_are_discovered() -> None:
    assert {"GET /api/auth/profile", *LIST_ROUTES} <= {str(route) for route in PROTECTED}
    assert all(route.access is None for route in ROUTES if "/auth/log" in route.rule)


def test_every_admin_path_requires_admin() -> None:
    for route in ROUTES:
        if "/admin" in route.rule:
            assert route.access == "admin", f"{route} is not behind admin_required"


def test_openapi_marks_exactly_the_protected_routes() -> None:
    for route in ROUTES:
        documented = route.operation.get("security") == [{"bearerAuth": []}]
        assert documented == bool(route.access), str(route)


@pytest.mark.parametrize("case", BAD_TOKENS)
@pytest.mark.parametrize("route", PROTECTED, ids=str)
def test_protected_route_refuses_bad_token_with_json_401(
    client, app, db, make_user, route: Route, case: str
) -> None:
    user = make_user("victim", is_admin=True)
    headers = bad_headers(case, app, user)
    if case == "deleted-user":
        db.users.delete_one({"_id": user["_id"]})
    before = counts(db)
    response = call(client, route, headers)
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert isinstance(body["error"], str) and "msg" not in body
    assert counts(db) == before


@pytest.mark.parametrize("route", ADMIN_ONLY, ids=str)
def test_admin_route_refuses_a_non_admin(client, db, make_user, token_for, route) -> None:
    headers = token_for(make_user("pleb"))
    before = counts(db)
    response = call(client, route, headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "admin privileges required"
    assert counts(db) == before


@pytest.mark.parametrize("route", ADMIN_ONLY, ids=str)
def test_admin_route_refuses_a_demoted_admins_old_token(client, db, make_user, token_for, route):
    admin = make_user("former", is_admin=True)
    headers = token_for(admin)  # issued while still an admin
    db.users.update_one({"_id": admin["_id"]}, {"$set": {"is_admin": False}})
    assert call(client, route, headers).status_code == 403


# --- object-level authorization -------------------------------------------------------------


@pytest.fixture
def alice_rating(client, sample_anime, make_user, token_for) -> tuple[dict, Callable]:
    alice = make_user("alice")
    response = client.post(
        "/api/ratings", json={"anime_id": 1, "rating": 9}, headers=token_for(alice)
    )
    assert response.status_code == 201
    return response.get_json(), token_for


def test_another_users_rating_is_not_found_and_survives(client, db, make_user, alice_rating):
    rating, token_for = alice_rating
    response = client.delete(
        f"/api/ratings/{rating['rating_id']}", headers=token_for(make_user("bob"))
    )
    assert response.status_code == 404
    assert "error" in response.get_json()
    assert count(db.ratings) == 1


def test_rating_as_another_user_is_impossible(client, db, make_user, alice_rating) -> None:
    rating, token_for = alice_rating
    bob = make_user("bob")
    body = {"anime_id": 1, "rating": 1, "user_id": rating["user_id"]}
    response = client.post("/api/ratings", json=body, headers=token_for(bob))
    assert response.status_code == 400 and "user_id" in response.get_json()["error"]
    response = client.post(
        "/api/ratings", json={"anime_id": 1, "rating": 1}, headers=token_for(bob)
    )
    assert response.get_json()["user_id"] == str(bob["_id"])
    assert db.ratings.find_one({"user_id": ObjectId(rating["user_id"])})["rating"] == 9


def test_owner_and_admin_may_delete(client, db, make_user, alice_rating) -> None:
    rating, token_for = alice_rating
    admin = make_user("root", is_admin=True)
    response = client.delete(f"/api/ratings/{rating['rating_id']}", headers=token_for(admin))
    assert response.status_code == 204
    assert count(db.ratings) == 0


def test_another_users_list_entry_cannot_be_deleted(client, db, make_user, alice_rating) -> None:
    _, token_for = alice_rating
    alice = db.users.find_one({"username": "alice"})
    assert (
        client.put(
            "/api/list/1", json={"status": "completed"}, headers=token_for(alice)
        ).status_code
        == 201
    )
    response = client.delete("/api/list/1", headers=token_for(make_user("bob")))
    assert response.status_code == 404
    assert count(db.list_entries) == 1


def test_another_users_history_is_not_readable(client, make_user, token_for, alice_rating):
    rating, _ = alice_rating
    response = client.get(f"/api/history/{rating['user_id']}", headers=token_for(make_user("bob")))
    assert response.status_code in (403, 404)
    assert "history" not in response.get_json()


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "GET"], ids=str)
def test_no_route_reveals_password_hashes(client, db, sample_anime, route: Route) -> None:
    token = client.post(
        "/api/auth/register",
        json={"username": "root", "email": "root@example.com", "password": "s3cret-pass"},
    ).get_json()["token"]
    root = db.users.find_one({"username": "root"})
    db.users.update_one({"_id": root["_id"]}, {"$set": {"is_admin": True}})
    client.post(
        "/api/ratings",
        json={"anime_id": 1, "rating": 8},
        headers={"Authorization": f"Bearer {token}"},
    )
    url = route.url(user_id=str(root["_id"]))
    text = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert "password_hash" not in text and "$argon2" not in text
