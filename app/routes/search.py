"""Keyword and semantic search: GET /search."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.schemas.common import ErrorEnvelopeSchema
from app.schemas.search import SearchArgsSchema, SearchResponseSchema
from app.services import search_service

blp = Blueprint("search", __name__, url_prefix="/search", description="Keyword and semantic search")


@blp.route("")
class Search(MethodView):
    @blp.arguments(SearchArgsSchema, location="query")
    @blp.response(200, SearchResponseSchema)
    @blp.alt_response(503, schema=ErrorEnvelopeSchema, description="Semantic index not built")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search anime by name (keyword) or by meaning (semantic), optionally by genres."""
        return search_service.search_anime(
            args["q"],
            search_type=args["type"],
            limit=args["limit"],
            genres=args["genres"],
            db=get_db(),
            index=current_app.extensions.get("search_index"),
            cache=current_app.extensions.get("anime_cache"),
            keyword_results=current_app.extensions.get("keyword_results"),
        )
