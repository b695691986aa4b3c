"""Authentication and authorization: JWT callbacks, ``auth_required``, ``admin_required``.

Every auth failure answers the project's ``{"error": ...}`` envelope with 401 (403 for a
non-admin on an admin route), never flask-jwt-extended's ``{"msg": ...}`` or 422.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from bson import ObjectId
from flask import Flask, Response, current_app, g
from flask_jwt_extended import (
    create_access_token,
    current_user,
    get_jwt_identity,
    verify_jwt_in_request,
)
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from app.db import get_db
from app.db import users as users_db
from app.db.common import to_object_id
from app.errors import Forbidden, error_response
from app.extensions import jwt, limiter
from app.security_headers import register_security_headers
from app.services.auth_service import Passwords

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
BEARER_DOC: dict[str, Any] = {"security": [{"bearerAuth": []}]}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}


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


@jwt.token_verification_failed_loader
def _claims_refused(_header: dict, _payload: dict) -> Any:
    return error_response(401, "invalid token: claims refused")


def _mark(wrapper: Callable[..., Any], view: Callable[..., Any], access: str) -> None:
    """Record the access level (see ``access_of``) and the Bearer scheme in the OpenAPI document."""
    apidoc = dict(getattr(view, "_apidoc", {}))
    responses = {"401": {"description": "Missing, expired or invalid token"}}
    if access == "admin":
        responses["403"] = {"description": "The caller is not an admin"}
    responses = {status: {**doc, "content": ERROR_CONTENT} for status, doc in responses.items()}
    declared = apidoc.get("response", {}).get("responses", {})  # the view's own alt_responses
    responses = {k: v for k, v in responses.items() if k not in declared and int(k) not in declared}
    apidoc["manual_doc"] = {
        **apidoc.get("manual_doc", {}),
        **BEARER_DOC,
        "responses": {**apidoc.get("manual_doc", {}).get("responses", {}), **responses},
    }
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]
    wrapper._access = access  # type: ignore[attr-defined]


def access_of(view: Callable[..., Any]) -> str | None:
    """A view's access level: "user" (auth_required), "admin" (admin_required) or None."""
    return getattr(view, "_access", None)


def auth_required(view: F) -> F:
    """The caller must send a valid Bearer token of an existing user."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verify_jwt_in_request()
        return view(*args, **kwargs)

    _mark(wrapper, view, "user")
    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """The caller must be an admin now (checked against the database, not the token)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verify_jwt_in_request()
        if not current_user.get("is_admin"):
            raise Forbidden("admin privileges required")
        return view(*args, **kwargs)

    _mark(wrapper, view, "admin")
    return wrapper  # type: ignore[return-value]


def current_user_id() -> ObjectId:
    """The authenticated caller's user id (inside a view protected by ``auth_required``)."""
    return ObjectId(get_jwt_identity())


def current_user_is_admin() -> bool:
    """Whether the caller is an admin now (read from the database with the token's user)."""
    return bool(current_user.get("is_admin"))


def issue_token(user_id: str) -> str:
    """A signed access token whose identity (``sub``) is the user id string."""
    return create_access_token(identity=user_id)


def password_hasher() -> Passwords:
    """The app's Argon2id hasher (costs from ARGON2_* settings)."""
    return current_app.extensions["passwords"]


def auth_rate_limit() -> Callable[[F], F]:
    """RATELIMIT_AUTH per client address, for login and register."""
    return limiter.limit(  # type: ignore[return-value]
        lambda: current_app.config["RATELIMIT_AUTH"], key_func=get_remote_address
    )


def _rate_limited(error: RateLimitExceeded) -> tuple[Response, int]:
    """429 in the error envelope, with Retry-After in whole seconds."""
    # Default limits are checked before request logging has given the request its id.
    g.request_id = g.get("request_id") or uuid.uuid4().hex
    response, status = error_response(429, f"rate limit exceeded: {error.description}")
    current = limiter.current_limit
    retry_after = math.ceil(current.reset_at - time.time()) if current else 60
    response.headers["Retry-After"] = str(max(retry_after, 1))
    return response, status


def init_security(app: Flask) -> None:
    """JWT settings, the password hasher, the 429 envelope and the security headers."""
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    app.config.setdefault("JWT_ERROR_MESSAGE_KEY", "error")
    app.extensions["passwords"] = Passwords(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:  # the client address (rate-limit key) comes from the proxies' X-Forwarded-For
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    register_security_headers(app)
    if (
        app.config["ENV_NAME"] == "production"
        and app.config["RATELIMIT_ENABLED"]
        and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://")
    ):
        log.warning("RATELIMIT_STORAGE_URI=memory:// counts per worker; use MongoDB or Redis")
