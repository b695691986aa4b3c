"""Schemas of the anime catalogue: list arguments, the anime object, genres."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from app.schemas.common import PaginationArgsSchema, PaginationMetaSchema

SORT_FIELDS = ("rating", "members", "name", "episodes", "anime_id")
ORDERS = ("asc", "desc")
MAX_GENRES = 10
MAX_GENRE_LENGTH = 100


def parse_genres(value: str | None) -> list[str]:
    """``"Action, comedy"`` -> ``["Action", "comedy"]``; empty items are dropped."""
    if not value:
        return []
    genres = [item.strip() for item in value.split(",") if item.strip()]
    if len(genres) > MAX_GENRES:
        raise ValidationError(f"at most {MAX_GENRES} genres")
    if any(len(genre) > MAX_GENRE_LENGTH for genre in genres):
        raise ValidationError(f"a genre is at most {MAX_GENRE_LENGTH} characters")
    return genres


class GenresField(fields.Field[list[str]]):
    """A comma-separated genre list in the query string (a string), loaded as a list of genres."""

    default_error_messages = {"invalid": "Not a valid string."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return parse_genres(value)


def genres_field() -> GenresField:
    return GenresField(
        data_key="genre",
        load_default=list,
        metadata={
            "type": "string",
            "description": "Comma-separated genres, whole and case-insensitive; all must match",
        },
    )


class AnimeListArgsSchema(PaginationArgsSchema):
    genres = genres_field()
    sort = fields.String(load_default="rating", validate=validate.OneOf(SORT_FIELDS))
    order = fields.String(
        load_default=None,
        validate=validate.OneOf(ORDERS),
        metadata={"description": "Default: desc for numbers, asc for name"},
    )


class AnimeSchema(Schema):
    """The flat anime object; ``image_url`` only when known."""

    anime_id = fields.Integer(required=True)
    name = fields.String(required=True)
    genre = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    episodes = fields.Integer(allow_none=True)
    rating = fields.Float(allow_none=True)
    members = fields.Integer(allow_none=True)
    description = fields.String(allow_none=True)
    image_url = fields.String()


class AnimeDetailSchema(AnimeSchema):
    user_rating_count = fields.Integer(required=True)
    user_avg_rating = fields.Float(allow_none=True, required=True)


class AnimeListSchema(PaginationMetaSchema):
    anime = fields.List(fields.Nested(AnimeSchema), required=True)


class AnimeSummarySchema(Schema):
    """The few anime fields shown beside a rating or a history entry."""

    anime_id = fields.Integer(required=True)
    name = fields.String(required=True)
    genre = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    image_url = fields.String()


class GenreCountSchema(Schema):
    genre = fields.String(required=True)
    count = fields.Integer(required=True)


class GenreListSchema(Schema):
    genres = fields.List(fields.Nested(GenreCountSchema), required=True)
