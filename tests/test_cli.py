"""``flask create-admin``: create the first admin, or promote an existing user."""

from __future__ import annotations

from flask import Flask
from pymongo.database import Database

from app.db.common import count


def run(app: Flask, *args: str, prompt_input: str | None = None):
    return app.test_cli_runner().invoke(args=["create-admin", *args], input=prompt_input)


def test_creates_an_admin_who_can_log_in(app: Flask, client, db: Database) -> None:
    result = run(app, "root", "--email", "root@example.com", "--password", "long-enough-pw")
    assert result.exit_code == 0, result.output
    assert "admin root created" in result.output
    user = db.users.find_one({"username": "root"})
    assert user["is_admin"] is True
    assert user["password_hash"].startswith("$argon2id$")
    token = client.post(
        "/api/auth/login", json={"username": "root", "password": "long-enough-pw"}
    ).get_json()["token"]
    profile = client.get("/api/auth/profile", headers={"Authorization": f"Bearer {token}"})
    assert profile.get_json()["is_admin"] is True


def test_password_is_prompted_for_when_omitted(app: Flask, db: Database) -> None:
    result = run(app, "root", "--email", "root@example.com", prompt_input="pw-123456\npw-123456\n")
    assert result.exit_code == 0, result.output
    assert "pw-123456" not in result.output  # hidden input
    assert db.users.find_one({"username": "root"})["is_admin"] is True


def test_promotes_an_existing_user(app: Flask, db: Database, make_user) -> None:
    user = make_user("alice")
    result = run(app, "alice")
    assert result.exit_code == 0, result.output
    assert "alice is now an admin" in result.output
    assert db.users.find_one({"_id": user["_id"]})["is_admin"] is True
    assert count(db.users) == 1


def test_a_new_user_needs_an_email(app: Flask, db: Database) -> None:
    result = run(app, "root", "--password", "long-enough-pw")
    assert result.exit_code == 2
    assert "--email" in result.output
    assert count(db.users) == 0


def test_invalid_values_are_refused(app: Flask, db: Database) -> None:
    result = run(app, "r", "--email", "not-an-email", "--password", "short")
    assert result.exit_code == 1
    for field in ("username", "email", "password"):
        assert field in result.output
    assert count(db.users) == 0


def test_a_taken_email_is_refused(app: Flask, db: Database, make_user) -> None:
    make_user("alice")
    result = run(app, "root", "--email", "alice@example.com", "--password", "long-enough-pw")
    assert result.exit_code == 1
    assert "email already exists" in result.output
    assert count(db.users) == 1
