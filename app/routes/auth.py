"""Registration, login and profile."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.schemas.auth import AuthResponseSchema, LoginSchema, ProfileSchema, RegisterSchema
from app.schemas.common import ErrorEnvelopeSchema
from app.security import (
    auth_rate_limit,
    auth_required,
    current_user_id,
    issue_token,
    password_hasher,
)
from app.services import auth_service

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Registration, login and profile")
too_many_attempts = blp.alt_response(
    429, schema=ErrorEnvelopeSchema, description="Too many attempts; see Retry-After"
)


@blp.route("/register")
class Register(MethodView):
    @auth_rate_limit()
    @blp.arguments(RegisterSchema)
    @blp.response(201, AuthResponseSchema)
    @blp.alt_response(409, schema=ErrorEnvelopeSchema, description="The username or email is taken")
    @too_many_attempts
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create an account and return it with an access token."""
        return auth_service.register(
            db=get_db(), passwords=password_hasher(), issue_token=issue_token, **data
        )


@blp.route("/login")
class Login(MethodView):
    @auth_rate_limit()
    @blp.arguments(LoginSchema)
    @blp.response(200, AuthResponseSchema)
    @blp.alt_response(401, schema=ErrorEnvelopeSchema, description="Unknown user or wrong password")
    @too_many_attempts
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a username and password for an access token."""
        return auth_service.login(
            db=get_db(), passwords=password_hasher(), issue_token=issue_token, **data
        )


@blp.route("/profile")
class Profile(MethodView):
    @auth_required
    @blp.response(200, ProfileSchema)
    @blp.alt_response(
        401, schema=ErrorEnvelopeSchema, description="Missing, expired or invalid token"
    )
    def get(self) -> dict[str, Any]:
        """The caller's profile."""
        return auth_service.get_profile(db=get_db(), user_id=current_user_id())
