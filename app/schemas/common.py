"""Schemas every blueprint shares: pagination arguments and metadata, datetimes, error envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 100_000  # bounds skip = (page - 1) * limit well inside 64 bits


class PaginationArgsSchema(Schema):
    """``?page=1&limit=20``: page >= 1, limit 1-100."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )


class PaginationMetaSchema(Schema):
    """The ``total``, ``page`` and ``pages`` fields of every paginated list."""

    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC; a naive datetime is taken to be UTC already.

    A string is parsed first: nx-27017 stores a datetime written with ``$set`` as a naive string.
    """

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ErrorEnvelopeSchema(Schema):
    """The body of every error response (app.errors.error_response)."""

    error = fields.String(required=True, metadata={"description": "What went wrong, in one line"})
    details = fields.Raw(
        metadata={"description": "Structured details when there are: per-field messages, ids"}
    )
    request_id = fields.String(
        metadata={"description": "This request's id, also in the X-Request-ID header and the log"}
    )
