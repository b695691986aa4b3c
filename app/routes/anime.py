"""The anime catalogue."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint("anime", __name__, url_prefix="/anime", description="The anime catalogue")
