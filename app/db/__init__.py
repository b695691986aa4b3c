"""Data access: the only package that touches pymongo collections, one module per collection."""

from __future__ import annotations

from flask import current_app
from pymongo.database import Database


def get_db() -> Database:
    """The app's database handle (bound at start-up by ``app.extensions.init_database``)."""
    return current_app.extensions["mongo_db"]
