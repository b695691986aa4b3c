"""Personalised recommendations."""

from __future__ import annotations

from app.extensions import Blueprint

blp = Blueprint(
    "recommendations",
    __name__,
    url_prefix="/recommendations",
    description="Personalised recommendations",
)
