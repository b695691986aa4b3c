"""Authentication and authorization: JWT callbacks, ``auth_required``, ``admin_required``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from bson import ObjectId
from flask import Flask
from flask_jwt_extended import current_user, get_jwt_identity, verify_jwt_in_request

from app.db import get_db
from app.db import users as users_db
from app.db.common import to_object_id
from app.errors import Forbidden, error_response
from app.extensions import jwt

F = TypeVar("F", bound=Callable[..., Any])


@jwt.user_lookup_loader
def _load_user(_header: dict, payload: dict) -> dict | None:
    user_id = to_object_id(payload.get("sub"))
    return users_db.find_by_id(get_db(), user_id) if user_id else None


@jwt.user_lookup_error_loader
def _user_gone(_header: dict, _payload: dict) -> Any:
    return error_response(401, "the token's user no longer exists")


@jwt.unauthorized_loader
def _missing_token(reason: str) -> Any:
    return error_response(401, f"authentication required: {reason}")


@jwt.invalid_token_loader
def _invalid_token(reason: str) -> Any:
    return error_response(401, f"invalid token: {reason}")


@jwt.expired_token_loader
def _expired_token(_header: dict, _payload: dict) -> Any:
    return error_response(401, "token has expired")


@jwt.revoked_token_loader
def _revoked_token(_header: dict, _payload: dict) -> Any:
    return error_response(401, "token has been revoked")


@jwt.needs_fresh_token_loader
def _needs_fresh(_header: dict, _payload: dict) -> Any:
    return error_response(401, "a fresh token is required")


def auth_required(view: F) -> F:
    """The caller must send a valid Bearer token of an existing user."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verify_jwt_in_request()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """The caller must be an admin now (checked against the database, not the token)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verify_jwt_in_request()
        if not current_user.get("is_admin"):
            raise Forbidden("admin privileges required")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_user_id() -> ObjectId:
    """The authenticated caller's user id (inside a view protected by ``auth_required``)."""
    return ObjectId(get_jwt_identity())


def current_user_is_admin() -> bool:
    return bool(current_user.get("is_admin"))


def init_security(app: Flask) -> None:
    """JWT settings the project relies on: Bearer header only, identity is the user id string."""
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    app.config.setdefault("JWT_ERROR_MESSAGE_KEY", "error")
