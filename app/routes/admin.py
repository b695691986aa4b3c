"""Training, metrics and statistics (admins only)."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    description="Training, metrics and statistics (admins only)",
)
