"""Personalised recommendations."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.routes.converters import ANIME_ID
from app.schemas.common import ErrorEnvelopeSchema
from app.schemas.recommendation import RecommendationArgsSchema, RecommendationsSchema
from app.schemas.similar import SimilarArgsSchema, SimilarResponseSchema
from app.services import recommendation_service

blp = Blueprint(
    "recommendations",
    __name__,
    url_prefix="/recommendations",
    description="Personalised recommendations",
)


@blp.route("/<objectid:user_id>")
class Recommendations(MethodView):
    @blp.arguments(RecommendationArgsSchema, location="query")
    @blp.response(200, RecommendationsSchema)
    @blp.alt_response(
        400, schema=ErrorEnvelopeSchema, description="Unknown model or n outside 1-100"
    )
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown user")
    def get(self, args: dict[str, Any], user_id: str) -> dict[str, Any]:
        """Top-n anime for a user from one model (public, like the user's ratings).

        Users the models never saw get item-based fold-in from their current ratings, users with
        no ratings popular well-rated anime; ``model_used`` says which answered.
        """
        return recommendation_service.get_recommendations(
            user_id,
            args["model"],
            args["n"],
            db=get_db(),
            registry=current_app.extensions["model_registry"],
            cache=current_app.extensions["anime_cache"],
        )


@blp.route(f"/<objectid:user_id>/similar/<{ANIME_ID}:anime_id>")
class SimilarAnime(MethodView):
    @blp.arguments(SimilarArgsSchema, location="query")
    @blp.response(200, SimilarResponseSchema)
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown user or anime")
    @blp.alt_response(503, schema=ErrorEnvelopeSchema, description="No index and no CF model")
    def get(self, args: dict[str, Any], user_id: str, anime_id: int) -> dict[str, Any]:
        """Anime like this one that the user has not rated (public, like recommendations).

        People who liked it also liked (item-based CF neighbours) blended with anime whose
        name, genres and synopsis are closest (FAISS); ``method`` says which answered. The anime
        itself and what the user already rated are left out.
        """
        return recommendation_service.get_similar_anime(
            user_id,
            anime_id,
            args["n"],
            db=get_db(),
            index=current_app.extensions.get("search_index"),
            registry=current_app.extensions.get("model_registry"),
            cache=current_app.extensions.get("anime_cache"),
        )
