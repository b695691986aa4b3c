"""auth_service: Argon2id hashing, registration conflicts, generic login failure, admins."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

import mongomock
import pytest
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from app.db import users as users_db
from app.db.indexes import ensure_indexes
from app.errors import Conflict, NotFound, Unauthorized
from app.services import auth_service
from app.services.auth_service import Passwords

FAST = {"time_cost": 1, "memory_cost": 1024}


@pytest.fixture
def users(db: Database) -> Database:
    ensure_indexes(db)
    return db


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(**FAST)


def issue(user_id: str) -> str:
    return f"token-for-{user_id}"


def register(db: Database, passwords: Passwords, **overrides: str) -> dict[str, Any]:
    fields = {"username": "alice", "email": "alice@example.com", "password": "s3cret-pass"}
    fields.update(overrides)
    return auth_service.register(db=db, passwords=passwords, issue_token=issue, **fields)


def test_hash_is_argon2id_with_the_configured_cost() -> None:
    hashed = Passwords(time_cost=2, memory_cost=19456).hash("s3cret-pass")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_verify_accepts_only_the_right_password(passwords: Passwords) -> None:
    hashed = passwords.hash("s3cret-pass")
    assert passwords.verify(hashed, "s3cret-pass")
    assert not passwords.verify(hashed, "s3cret-pasS")
    assert not passwords.verify(None, "s3cret-pass")
    assert not passwords.verify("not-an-argon2-hash", "s3cret-pass")


def test_verify_without_a_hash_still_runs_argon2(passwords: Passwords, monkeypatch) -> None:
    calls: list[str] = []
    real = passwords._hasher

    class Spy:
        def verify(self, hashed: str, password: str) -> bool:
            calls.append(hashed)
            return real.verify(hashed, password)

    hashed = passwords.hash("x" * 8)
    monkeypatch.setattr(passwords, "_hasher", Spy())
    assert not passwords.verify(None, "whatever1")
    assert not passwords.verify(hashed, "whatever1")
    assert len(calls) == 2
    assert all(call.startswith("$argon2id$") for call in calls)


def test_register_stores_a_hash_and_returns_no_secret(users: Database, passwords) -> None:
    result = register(users, passwords, email="Alice@Example.COM")
    stored = users.users.find_one({"username": "alice"})
    assert result == {
        "user": {"id": str(stored["_id"]), "username": "alice", "email": "alice@example.com"},
        "token": f"token-for-{stored['_id']}",
    }
    assert stored["password_hash"].startswith("$argon2id$")
    assert stored["password_hash"] != "s3cret-pass"
    assert stored["is_admin"] is False
    assert stored["created_at"].tzinfo is not None


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"username": "alice", "email": "other@example.com"}, "username"),
        ({"username": "bob", "email": "ALICE@example.com"}, "email"),
    ],
)
def test_duplicate_is_a_conflict_naming_the_field(users, passwords, second, field) -> None:
    register(users, passwords)
    with pytest.raises(Conflict) as caught:
        register(users, passwords, **second)
    assert caught.value.details == {"field": field}
    assert field in caught.value.message
    assert users_db.count_users(users) == 1


@pytest.mark.parametrize(
    ("details", "field"),
    [
        # MongoDB: keyPattern names the field (the value could mislead: "email" is a username here).
        (
            {"keyPattern": {"username": 1}, "errmsg": "E11000 index: username_unique dup key"},
            "username",
        ),
        ({"keyPattern": {"email": 1}, "keyValue": {"email": "a@b.c"}}, "email"),
        # nx-27017: only the index name, in the message.
        ({"errmsg": "UNIQUE constraint failed: index 'idx_users_email'"}, "email"),
        ({"errmsg": "UNIQUE constraint failed: index 'idx_users_username'"}, "username"),
        ({"errmsg": "E11000 duplicate key error index: email_unique dup key"}, "email"),
    ],
)
def test_duplicate_field_from_driver_details(details: dict, field: str, monkeypatch) -> None:
    db = mongomock.MongoClient().db

    def refuse(_document: dict) -> None:
        raise DuplicateKeyError(details.get("errmsg", "E11000"), 11000, details)

    monkeypatch.setattr(db.users, "insert_one", refuse)
    with pytest.raises(users_db.UserExists) as caught:
        users_db.create(db, {"username": "email_fan", "email": "x@example.com"})
    assert caught.value.field == field


def test_duplicate_field_found_by_lookup_when_the_driver_says_nothing(users) -> None:
    users_db.create(users, {"username": "alice", "email": "a@example.com"})
    with pytest.raises(users_db.UserExists) as caught:
        users_db.create(users, {"username": "bob", "email": "a@example.com"})
    assert caught.value.field == "email"


def test_login_returns_user_and_token(users, passwords) -> None:
    registered = register(users, passwords)
    result = auth_service.login(
        db=users, passwords=passwords, issue_token=issue, username="alice", password="s3cret-pass"
    )
    assert result["user"] == registered["user"]
    assert result["token"] == registered["token"]


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong-pass"),
        ("nobody", "s3cret-pass"),
        ("mal_1", "anything1"),
        ("ALICE", "s3cret-pass"),
    ],
)
def test_login_failure_is_one_generic_unauthorized(users, passwords, username, password) -> None:
    register(users, passwords)
    users_db.upsert_imported(users, [1])  # imported users have password_hash None
    with pytest.raises(Unauthorized) as caught:
        auth_service.login(
            db=users, passwords=passwords, issue_token=issue, username=username, password=password
        )
    assert caught.value.message == auth_service.LOGIN_FAILED


def test_login_upgrades_a_hash_made_with_older_parameters(users) -> None:
    register(users, Passwords(time_cost=1, memory_cost=512))
    stronger = Passwords(time_cost=2, memory_cost=1024)
    auth_service.login(
        db=users, passwords=stronger, issue_token=issue, username="alice", password="s3cret-pass"
    )
    assert users.users.find_one({"username": "alice"})["password_hash"].startswith(
        "$argon2id$v=19$m=1024,t=2,p=1$"
    )


def test_profile_has_the_documented_fields(users, passwords) -> None:
    registered = register(users, passwords)
    user_id = users.users.find_one({"username": "alice"})["_id"]
    profile = auth_service.get_profile(db=users, user_id=user_id)
    assert set(profile) == {"id", "username", "email", "created_at", "is_admin"}
    assert profile["id"] == registered["user"]["id"]
    assert profile["is_admin"] is False
    assert isinstance(profile["created_at"], datetime)


def test_profile_of_a_missing_user_is_not_found(users) -> None:
    from bson import ObjectId

    with pytest.raises(NotFound):
        auth_service.get_profile(db=users, user_id=ObjectId())


def test_promote_existing_and_create_admin(users, passwords) -> None:
    register(users, passwords)
    assert auth_service.promote_admin(db=users, username="alice")["username"] == "alice"
    assert users.users.find_one({"username": "alice"})["is_admin"] is True
    assert auth_service.promote_admin(db=users, username="nobody") is None
    created = auth_service.create_admin(
        db=users, passwords=passwords, username="root", email="root@example.com", password="x" * 12
    )
    root = users.users.find_one({"username": "root"})
    assert created["id"] == str(root["_id"])
    assert root["is_admin"] is True
    assert passwords.verify(root["password_hash"], "x" * 12)


@pytest.mark.slow
def test_failed_login_takes_the_same_time_for_unknown_and_known_users(users) -> None:
    """With OWASP's cost, an unknown user and a wrong password cost within 25% of each other."""
    passwords = Passwords(time_cost=2, memory_cost=19456)
    users.users.insert_one(
        {
            "username": "alice",
            "email": "a@example.com",
            "password_hash": passwords.hash("s3cret-pass"),
            "created_at": datetime.now(UTC),
        }
    )

    def median_seconds(username: str) -> float:
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            with pytest.raises(Unauthorized):
                auth_service.login(
                    db=users,
                    passwords=passwords,
                    issue_token=issue,
                    username=username,
                    password="wrong-pass",
                )
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    known, unknown = median_seconds("alice"), median_seconds("nobody")
    assert abs(known - unknown) / known < 0.25, (known, unknown)
