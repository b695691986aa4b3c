"""Users' ratings."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint("ratings", __name__, url_prefix="/ratings", description="Users' ratings")
