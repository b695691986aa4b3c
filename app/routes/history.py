"""Users' activity history."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint("history", __name__, url_prefix="/history", description="Users' activity history")
