"""Registration, login and profile."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Registration, login and profile")
