"""Query arguments and responses of the recommendations endpoint."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.anime import AnimeSchema
from app.services.recommendation_service import DEFAULT_MODEL, MAX_N, VALID_MODELS


class RecommendationArgsSchema(Schema):
    """``?model=hybrid&n=10``."""

    model = fields.String(
        load_default=DEFAULT_MODEL,
        validate=validate.OneOf(VALID_MODELS, error=f"must be one of: {', '.join(VALID_MODELS)}"),
        metadata={"description": "Which model: " + ", ".join(VALID_MODELS)},
    )
    n = fields.Integer(load_default=10, validate=validate.Range(min=1, max=MAX_N))


class RecommendationSchema(Schema):
    anime_id = fields.Integer(required=True)
    predicted_rating = fields.Float(required=True)
    anime = fields.Nested(AnimeSchema, allow_none=True)


class RecommendationsSchema(Schema):
    user_id = fields.String(required=True)
    model_used = fields.String(
        required=True,
        metadata={
            "description": "The model that answered: one of the four, "
            "item_based_foldin (a user the models never saw) or popularity (no ratings)"
        },
    )
    model_version = fields.String(allow_none=True)
    recommendations = fields.List(fields.Nested(RecommendationSchema), required=True)
