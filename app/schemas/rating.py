"""Schemas of ratings: the rating body, the rating object, a user's rating list."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.db.common import INT64_MAX
from app.schemas.anime import AnimeSummarySchema
from app.schemas.common import PaginationMetaSchema, UtcDateTime

RATING_MIN = 1
RATING_MAX = 10


class RatingInputSchema(Schema):
    """``{anime_id, rating}``: integers (no strings, floats or booleans), rating 1-10."""

    anime_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=INT64_MAX)
    )
    rating = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=RATING_MIN, max=RATING_MAX)
    )


class RatingSchema(Schema):
    """A user's rating of an anime; ``rating_id`` is what DELETE /ratings/<rating_id> takes."""

    rating_id = fields.String(required=True)
    user_id = fields.String(required=True)
    anime_id = fields.Integer(required=True)
    rating = fields.Integer(required=True)
    created_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime(allow_none=True, metadata={"description": "null until re-rated"})


class UserRatingSchema(RatingSchema):
    anime = fields.Nested(AnimeSummarySchema, allow_none=True)


class RatingListSchema(PaginationMetaSchema):
    ratings = fields.List(fields.Nested(UserRatingSchema), required=True)
