"""Schemas of search: query arguments and results."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.schemas.anime import AnimeSchema, genres_field
from app.schemas.common import DEFAULT_LIMIT, MAX_LIMIT

MAX_QUERY_LENGTH = 200
SEARCH_TYPES = ("keyword", "semantic")


class StrippedString(fields.String):
    """A string with surrounding whitespace removed before validation."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class SearchArgsSchema(Schema):
    q = StrippedString(
        required=True,
        validate=validate.Length(min=1, max=MAX_QUERY_LENGTH),
        metadata={"description": "What to look for (1-200 characters)"},
    )
    type = fields.String(load_default="keyword", validate=validate.OneOf(SEARCH_TYPES))
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )
    genres = genres_field()


class SearchResultSchema(AnimeSchema):
    similarity_score = fields.Float(
        metadata={"description": "Semantic search only: cosine similarity in [-1, 1]"}
    )


class SearchResponseSchema(Schema):
    results = fields.List(fields.Nested(SearchResultSchema), required=True)
    search_type = fields.String(required=True, validate=validate.OneOf(SEARCH_TYPES))
