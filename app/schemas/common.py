"""Schemas every blueprint shares: pagination arguments and metadata, the error envelope."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from marshmallow import Schema, fields, validate

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")
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
    """The error envelope every error response uses."""

    error = fields.String(required=True)
    details = fields.Raw()
    request_id = fields.String()


def fetch_page(
    fetch: Callable[[int, int], list[T]], count: Callable[[], int], page: int, limit: int
) -> tuple[list[T], int]:
    """One page of items, ``fetch(skip, limit)``, and the total, counted only when needed.

    A partly filled page tells the total by itself (the skipped items plus its own), which spares
    the count query (a full scan on the embedded server for unindexed filters).
    """
    skip = (page - 1) * limit
    items = fetch(skip, limit)
    if 0 < len(items) < limit:
        return items, skip + len(items)
    return items, count()


def pages_for(total: int, limit: int) -> int:
    """How many pages of ``limit`` items ``total`` items fill (0 when there are none)."""
    return math.ceil(total / limit) if limit > 0 else 0


def pagination_meta(total: int, page: int, limit: int) -> dict[str, int]:
    """``{total, page, pages}`` for a list endpoint; a page past the end is not an error."""
    return {"total": total, "page": page, "pages": pages_for(total, limit)}


def paginated(key: str, items: list[Any], total: int, page: int, limit: int) -> dict[str, Any]:
    """``{key: items, total, page, pages}``, the shape of every list endpoint."""
    return {key: items, **pagination_meta(total, page, limit)}
