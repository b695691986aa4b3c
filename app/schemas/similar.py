"""Schemas of similar anime (GET /recommendations/<user_id>/similar/<anime_id>) and of the
search index update (POST /admin/search-index/update)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.db.common import INT64_MAX
from app.schemas.anime import AnimeSchema

MAX_SIMILAR = 50
METHODS = ("hybrid", "collaborative", "content")
MAX_UPDATE_IDS = 500


class SimilarArgsSchema(Schema):
    n = fields.Integer(load_default=10, validate=validate.Range(min=1, max=MAX_SIMILAR))


class SimilarItemSchema(Schema):
    anime_id = fields.Integer(required=True)
    similarity_score = fields.Float(
        required=True,
        metadata={"description": "Blend of item-CF and content cosine similarity (see method)"},
    )
    anime = fields.Nested(AnimeSchema, required=True)


class SimilarResponseSchema(Schema):
    anime_id = fields.Integer(required=True)
    method = fields.String(
        required=True,
        validate=validate.OneOf(METHODS),
        metadata={"description": "Which sources answered: hybrid, collaborative or content"},
    )
    similar_anime = fields.List(fields.Nested(SimilarItemSchema), required=True)


class SearchIndexUpdateSchema(Schema):
    anime_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=INT64_MAX)),
        validate=validate.Length(min=1, max=MAX_UPDATE_IDS),
        metadata={"description": "Only these anime (default: every anime added or changed)"},
    )


class SearchIndexUpdateResultSchema(Schema):
    updated = fields.Integer(required=True)
    anime_ids = fields.List(fields.Integer(), required=True)
    indexed = fields.Integer(required=True)
