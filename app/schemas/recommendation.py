"""Query arguments and responses of the recommendations endpoint."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.anime import AnimeSchema
from app.services.recommendation_service import MAX_N
from ml.models import DEFAULT_MODEL, SERVED_MODELS


class RecommendationArgsSchema(Schema):
    """``?model=hybrid&n=10``."""

    model = fields.String(
        load_default=DEFAULT_MODEL,
        validate=validate.OneOf(SERVED_MODELS, error=f"must be one of: {', '.join(SERVED_MODELS)}"),
        metadata={"description": "Which model: " + ", ".join(SERVED_MODELS)},
    )
    n = fields.Integer(load_default=10, validate=validate.Range(min=1, max=MAX_N))


class ReasonSchema(Schema):
    """One of the user's own titles that added most to a recommendation's score."""

    anime_id = fields.Integer(required=True)
    name = fields.String(allow_none=True)


class RecommendationSchema(Schema):
    anime_id = fields.Integer(required=True)
    predicted_rating = fields.Float(
        required=True, metadata={"description": "The model's predicted rating, on the scale"}
    )
    anime = fields.Nested(AnimeSchema, allow_none=True)
    because = fields.List(
        fields.Nested(ReasonSchema),
        required=True,
        metadata={
            "description": "Up to 3 of the user's rated, watched or listed titles that added "
            "most to this one's score (empty where the model cannot say)"
        },
    )


class RecommendationsSchema(Schema):
    user_id = fields.String(required=True)
    model_used = fields.String(
        required=True,
        metadata={
            "description": "The model that answered: the requested one, or popularity (no "
            "ratings or watched titles yet, or no trained model)"
        },
    )
    model_version = fields.String(allow_none=True)
    recommendations = fields.List(fields.Nested(RecommendationSchema), required=True)
