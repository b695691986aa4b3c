"""Registration, login, profile and admin bootstrap; Argon2id password hashing."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from bson import ObjectId
from pymongo.database import Database

from app.db import users as users_db
from app.errors import Conflict, NotFound, Unauthorized

log = logging.getLogger(__name__)

LOGIN_FAILED = "invalid username or password"

TokenIssuer = Callable[[str], str]


class Passwords:
    """Argon2id hashing at one cost; verification costs the same whether or not a hash exists."""

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        # Verified against when the user is unknown or has no password (imported users), so a
        # failed login takes one Argon2 verification either way.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only when ``password_hash`` exists and ``password`` matches it."""
        try:
            matches = self._hasher.verify(password_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matches and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    """The user as the API shows it in auth responses: id, username, email."""
    return {"id": str(user["_id"]), "username": user["username"], "email": user.get("email")}


def register(
    *,
    db: Database,
    passwords: Passwords,
    issue_token: TokenIssuer,
    username: str,
    email: str,
    password: str,
) -> dict[str, Any]:
    """Create a user; a taken username or email is a Conflict naming the field."""
    user = _new_user(db, passwords, username=username, email=email, password=password)
    log.info("user registered: %s", user["_id"])
    return {"user": public_user(user), "token": issue_token(str(user["_id"]))}


def login(
    *,
    db: Database,
    passwords: Passwords,
    issue_token: TokenIssuer,
    username: str,
    password: str,
) -> dict[str, Any]:
    """A token for valid credentials; one generic Unauthorized for every failure."""
    user = users_db.find_by_username(db, username)
    password_hash = user.get("password_hash") if user else None
    matches = passwords.verify(password_hash, password)  # always runs, for equal timing
    if user is None or password_hash is None or not matches:
        raise Unauthorized(LOGIN_FAILED)
    if passwords.needs_rehash(password_hash):
        users_db.set_password_hash(db, user["_id"], passwords.hash(password))
    return {"user": public_user(user), "token": issue_token(str(user["_id"]))}


def get_profile(*, db: Database, user_id: ObjectId) -> dict[str, Any]:
    """The caller's profile: id, username, email, created_at, is_admin."""
    user = users_db.find_by_id(db, user_id)
    if user is None:
        raise NotFound("user not found")
    return {
        **public_user(user),
        "created_at": user.get("created_at"),
        "is_admin": bool(user.get("is_admin")),
    }


def promote_admin(*, db: Database, username: str) -> dict[str, Any] | None:
    """Make an existing user an admin; None when there is no such user."""
    user = users_db.find_by_username(db, username)
    if user is None:
        return None
    users_db.set_admin(db, user["_id"], True)
    log.info("user promoted to admin: %s", user["_id"])
    return public_user(user)


def create_admin(
    *, db: Database, passwords: Passwords, username: str, email: str, password: str
) -> dict[str, Any]:
    """Create a new user who is an admin from the start."""
    user = _new_user(
        db, passwords, username=username, email=email, password=password, is_admin=True
    )
    log.info("admin created: %s", user["_id"])
    return public_user(user)


def _new_user(
    db: Database,
    passwords: Passwords,
    *,
    username: str,
    email: str,
    password: str,
    is_admin: bool = False,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "username": username,
        "email": normalize_email(email),
        "password_hash": passwords.hash(password),
        "is_admin": is_admin,
        "created_at": datetime.now(UTC),
    }
    try:
        document["_id"] = users_db.create(db, document)
    except users_db.UserExists as error:
        raise Conflict(f"{error.field} already exists", details={"field": error.field}) from error
    return document


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively: stored lower-cased so the unique index sees one form."""
    return email.strip().lower()
