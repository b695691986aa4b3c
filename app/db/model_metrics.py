"""Queries on the ``model_metrics`` collection: one document per model per training run."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

PUBLIC_FIELDS = {"_id": 0}


def insert_run(db: Database, documents: list[dict[str, Any]]) -> int:
    """Record the metrics of every model trained in one run; return how many were stored."""
    if not documents:
        return 0
    return len(db.model_metrics.insert_many(documents, ordered=False).inserted_ids)


def latest_for(db: Database, model_name: str) -> dict[str, Any] | None:
    """The newest metrics document of one model (the ``model_recent`` index)."""
    return db.model_metrics.find_one(
        {"model_name": model_name}, PUBLIC_FIELDS, sort=[("trained_at", DESCENDING)]
    )


def recent(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """The newest metrics documents of every model, newest first."""
    cursor = db.model_metrics.find({}, PUBLIC_FIELDS).sort("trained_at", DESCENDING)
    return list(cursor.limit(limit))
