"""Bodies and responses of the auth endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import UtcDateTime

# ECMA-compatible for the OpenAPI document; (?!\n) stops Python's $ from accepting "alice\n".
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}(?!\n)$"
USERNAME_RULE = "3-32 characters: letters, digits, _ . -"
PASSWORD_MIN, PASSWORD_MAX = 8, 128
EMAIL_MAX = 254


class RegisterSchema(Schema):
    """``{username, password, email}``; unknown fields (e.g. ``is_admin``) are refused."""

    username = fields.String(
        required=True,
        validate=validate.Regexp(USERNAME_PATTERN, error=USERNAME_RULE),
        metadata={"example": "alice"},
    )
    email = fields.Email(
        required=True, validate=validate.Length(max=EMAIL_MAX), metadata={"example": "a@b.org"}
    )
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX),
        metadata={"example": "correct horse battery"},
    )


class LoginSchema(Schema):
    """``{username, password}``; only shape and size are checked, the rest is a 401."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=32))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=PASSWORD_MAX)
    )


class UserSchema(Schema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    email = fields.String(allow_none=True)


class AuthResponseSchema(Schema):
    """The user and a Bearer access token for the ``Authorization`` header."""

    user = fields.Nested(UserSchema, required=True)
    token = fields.String(required=True)


class ProfileSchema(UserSchema):
    created_at = UtcDateTime(allow_none=True)
    is_admin = fields.Boolean(required=True)
