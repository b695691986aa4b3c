"""Index specifications for every collection; ``ensure_indexes`` creates them idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT
from pymongo.database import Database


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: list[tuple[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)


INDEXES: tuple[IndexSpec, ...] = (
    IndexSpec("users", [("username", ASCENDING)], {"unique": True, "name": "username_unique"}),
    IndexSpec(
        "users",
        [("email", ASCENDING)],
        {
            "unique": True,
            "name": "email_unique",
            "partialFilterExpression": {"email": {"$type": "string"}},
        },
    ),
    IndexSpec("anime", [("anime_id", ASCENDING)], {"unique": True, "name": "anime_id_unique"}),
    IndexSpec("anime", [("name", TEXT)], {"name": "name_text"}),
    IndexSpec("anime", [("members", DESCENDING)], {"name": "members_desc"}),
    IndexSpec("anime", [("rating", DESCENDING)], {"name": "rating_desc"}),
    IndexSpec(
        "ratings",
        [("user_id", ASCENDING), ("anime_id", ASCENDING)],
        {"unique": True, "name": "user_anime_unique"},
    ),
    IndexSpec("ratings", [("anime_id", ASCENDING)], {"name": "anime_id"}),
    IndexSpec(
        "ratings", [("user_id", ASCENDING), ("created_at", DESCENDING)], {"name": "user_recent"}
    ),
    IndexSpec(
        "watch_history",
        [("user_id", ASCENDING), ("created_at", DESCENDING)],
        {"name": "user_recent"},
    ),
    IndexSpec(
        "model_metrics",
        [("model_name", ASCENDING), ("trained_at", DESCENDING)],
        {"name": "model_recent"},
    ),
    IndexSpec("training_jobs", [("created_at", DESCENDING)], {"name": "recent"}),
    IndexSpec("training_jobs", [("status", ASCENDING)], {"name": "status"}),
)


def ensure_indexes(db: Database) -> None:
    """Create every index in INDEXES; existing ones with the same name are left as they are."""
    for spec in INDEXES:
        db[spec.collection].create_index(spec.keys, **spec.options)
