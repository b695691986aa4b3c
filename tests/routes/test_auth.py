"""POST /auth/register, POST /auth/login, GET /auth/profile: shapes, validation, token handling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, decode_token
from pymongo.database import Database

from app.db.common import count

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
PROFILE = "/api/auth/profile"
ALICE = {"username": "alice", "email": "alice@example.com", "password": "s3cret-pass"}


def register(client: FlaskClient, **overrides: Any) -> Any:
    return client.post(REGISTER, json={**ALICE, **overrides})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_returns_201_user_and_token(client: FlaskClient, app: Flask, db) -> None:
    response = register(client)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user", "token"}
    assert set(body["user"]) == {"id", "username", "email"}
    assert body["user"]["username"] == "alice"
    assert body["user"]["email"] == "alice@example.com"
    stored = db.users.find_one({"username": "alice"})
    assert body["user"]["id"] == str(stored["_id"])
    with app.app_context():
        assert decode_token(body["token"])["sub"] == body["user"]["id"]


def test_login_returns_200_user_and_token(client: FlaskClient) -> None:
    registered = register(client).get_json()
    response = client.post(LOGIN, json={"username": "alice", "password": "s3cret-pass"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == registered["user"]
    assert body["token"]
    assert response.headers["Cache-Control"] == "no-store"


def test_profile_with_token(client: FlaskClient) -> None:
    token = register(client).get_json()["token"]
    response = client.get(PROFILE, headers=bearer(token))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"id", "username", "email", "created_at", "is_admin"}
    assert body["is_admin"] is False
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)


def test_password_hash_never_leaves_the_server(client: FlaskClient) -> None:
    responses = [
        register(client),
        client.post(LOGIN, json={"username": "alice", "password": "s3cret-pass"}),
    ]
    responses.append(client.get(PROFILE, headers=bearer(responses[1].get_json()["token"])))
    responses.append(client.get("/api/openapi.json"))
    for response in responses:
        text = response.get_data(as_text=True)
        assert "password_hash" not in text
        assert "$argon2" not in text
        assert "s3cret-pass" not in text


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"email": "other@example.com"}, "username"),
        ({"username": "bob", "email": "ALICE@Example.com"}, "email"),
    ],
)
def test_duplicate_is_409_naming_the_field(client, db: Database, second, field) -> None:
    register(client)
    response = register(client, **second)
    assert response.status_code == 409
    body = response.get_json()
    assert field in body["error"]
    assert body["details"] == {"field": field}
    assert count(db.users) == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody", "s3cret-pass"), ("mal_7", "s3cret-pass")],
)
def test_login_failure_is_one_generic_401(client, db, username: str, password: str) -> None:
    register(client)
    db.users.insert_one({"username": "mal_7", "password_hash": None, "is_admin": False})
    response = client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid username or password"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "al"}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "ali ce"}, "username"),
        ({"username": "alice\n"}, "username"),
        ({"username": "ålice"}, "username"),
        ({"username": "alice$"}, "username"),
        ({"username": {"$gt": ""}}, "username"),
        ({"username": ["alice"]}, "username"),
        ({"username": 12345}, "username"),
        ({"username": None}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@" + "b" * 250 + ".com"}, "email"),
        ({"email": {"$ne": None}}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"password": {"$gt": ""}}, "password"),
        ({"password": 123456789}, "password"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_register_rejects_bad_fields(client, db, body: dict, field: str) -> None:
    response = client.post(REGISTER, json={**ALICE, **body})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error.startswith("invalid input") and field in error
    assert count(db.users) == 0


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_requires_every_field(client, db, missing: str) -> None:
    body = {key: value for key, value in ALICE.items() if key != missing}
    response = client.post(REGISTER, json=body)
    assert response.status_code == 400
    assert missing in response.get_json()["error"]
    assert count(db.users) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"username": {"$gt": ""}, "password": {"$gt": ""}},
        {"username": "alice", "password": {"$ne": "x"}},
        {"username": "a" * 33, "password": "s3cret-pass"},
        {"username": "alice", "password": "p" * 129},
        {"username": "alice"},
        {},
    ],
)
def test_login_rejects_malformed_bodies_with_400(client, body: dict) -> None:
    register(client)
    response = client.post(LOGIN, json=body)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("invalid input")


def test_unicode_passwords_work(client) -> None:
    assert register(client, password="pässwörd-🎌-密码").status_code == 201
    response = client.post(LOGIN, json={"username": "alice", "password": "pässwörd-🎌-密码"})
    assert response.status_code == 200


def test_token_expiry_follows_the_setting(client, app: Flask) -> None:
    token = register(client).get_json()["token"]
    with app.app_context():
        claims = decode_token(token)
    lifetime = app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()
    assert claims["exp"] - claims["iat"] == lifetime


def _forged(app: Flask, sub: str, key: str, **extra: Any) -> str:
    payload = {"sub": sub, "type": "access", "fresh": False, "jti": "x", **extra}
    return pyjwt.encode(payload, key, algorithm="HS256")


@pytest.mark.parametrize(
    "case",
    ["none", "garbage", "not-bearer", "expired", "wrong-key", "alg-none", "bad-sub", "deleted"],
)
def test_profile_refuses_bad_tokens_with_json_401(client, app: Flask, db, case: str) -> None:
    user_id = register(client).get_json()["user"]["id"]
    with app.app_context():
        expired = create_access_token(identity=user_id, expires_delta=timedelta(seconds=-10))
        valid = create_access_token(identity=user_id)
    headers = {
        "none": {},
        "garbage": bearer("garbage.token.here"),
        "not-bearer": {"Authorization": f"Token {valid}"},
        "expired": bearer(expired),
        "wrong-key": bearer(_forged(app, user_id, "another-secret-key-that-is-long-enough!")),
        "alg-none": bearer(
            pyjwt.encode({"sub": user_id, "type": "access"}, None, algorithm="none")
        ),
        "bad-sub": bearer(_forged(app, "not-an-object-id", app.config["JWT_SECRET_KEY"])),
        "deleted": bearer(valid),
    }[case]
    if case == "deleted":
        db.users.delete_many({})
    response = client.get(PROFILE, headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert set(body) >= {"error"} and "msg" not in body


def test_openapi_documents_bearer_security(client) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"][PROFILE]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"][LOGIN]["post"]
