"""The anime catalogue: GET /anime, /anime/genres, /anime/<id>."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.routes.converters import ANIME_ID
from app.schemas.anime import (
    AnimeDetailSchema,
    AnimeListArgsSchema,
    AnimeListSchema,
    GenreListSchema,
)
from app.schemas.common import ErrorEnvelopeSchema
from app.services import anime_service

blp = Blueprint("anime", __name__, url_prefix="/anime", description="The anime catalogue")


@blp.route("")
class AnimeList(MethodView):
    @blp.arguments(AnimeListArgsSchema, location="query")
    @blp.response(200, AnimeListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List anime, filtered by genres and sorted; a page past the end is empty."""
        return anime_service.list_anime(
            db=get_db(), totals=current_app.extensions["catalogue_totals"], **args
        )


@blp.route("/genres")
class Genres(MethodView):
    @blp.response(200, GenreListSchema)
    def get(self) -> dict[str, Any]:
        """Every genre with its number of anime (recomputed at most every 5 minutes)."""
        return anime_service.list_genres(db=get_db(), cache=current_app.extensions["genre_cache"])


@blp.route(f"/<{ANIME_ID}:anime_id>")
class AnimeDetail(MethodView):
    @blp.response(200, AnimeDetailSchema)
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown anime id")
    def get(self, anime_id: int) -> dict[str, Any]:
        """One anime with the number and mean of its users' ratings."""
        return anime_service.get_anime(anime_id, db=get_db())
