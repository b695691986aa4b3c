"""Users' ratings: POST /ratings, DELETE /ratings/<id>, GET /ratings/user/<user_id>."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.schemas.common import ErrorEnvelopeSchema, PaginationArgsSchema
from app.schemas.rating import RatingInputSchema, RatingListSchema, RatingSchema
from app.security import auth_required, current_user_id, current_user_is_admin
from app.services import rating_service

blp = Blueprint("ratings", __name__, url_prefix="/ratings", description="Users' ratings")


@blp.route("")
class Ratings(MethodView):
    @auth_required
    @blp.arguments(RatingInputSchema)
    @blp.response(201, RatingSchema, description="The first rating of this anime by the caller")
    @blp.alt_response(200, schema=RatingSchema, description="The caller's rating was changed")
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown anime id")
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Rate an anime 1-10 (Bearer); rating it again changes the rating."""
        rating, created = rating_service.rate_anime(
            current_user_id(), body["anime_id"], body["rating"], db=get_db()
        )
        return rating, 201 if created else 200


@blp.route("/<objectid:rating_id>")
class Rating(MethodView):
    @auth_required
    @blp.response(204)
    @blp.alt_response(
        404, schema=ErrorEnvelopeSchema, description="Unknown id, or another user's rating"
    )
    def delete(self, rating_id: str) -> None:
        """Delete a rating (Bearer: its owner or an admin)."""
        rating_service.delete_rating(
            rating_id, user_id=current_user_id(), is_admin=current_user_is_admin(), db=get_db()
        )


@blp.route("/user/<objectid:user_id>")
class UserRatings(MethodView):
    @blp.arguments(PaginationArgsSchema, location="query")
    @blp.response(200, RatingListSchema)
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown user id")
    def get(self, args: dict[str, Any], user_id: str) -> dict[str, Any]:
        """A user's ratings, newest first, each with its anime's name and genre."""
        return rating_service.list_user_ratings(user_id, db=get_db(), **args)
