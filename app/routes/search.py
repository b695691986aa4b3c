"""Keyword and semantic search."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint("search", __name__, url_prefix="/search", description="Keyword and semantic search")
