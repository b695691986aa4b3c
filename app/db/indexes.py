"""Index specifications for every collection; ``ensure_indexes`` creates them idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT
from pymongo.database import Database
from pymongo.errors import OperationFailure

from app.db.common import on_embedded_server


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
    # Every sort of the catalogue walks an index (anime_id's is the unique one): a page costs a
    # few ms on the embedded server instead of sorting every match.
    IndexSpec("anime", [("name", ASCENDING)], {"name": "name_asc"}),
    IndexSpec("anime", [("episodes", DESCENDING)], {"name": "episodes_desc"}),
    IndexSpec(
        "ratings",
        [("user_id", ASCENDING), ("anime_id", ASCENDING)],
        {"unique": True, "name": "user_anime_unique"},
    ),
    IndexSpec("ratings", [("anime_id", ASCENDING)], {"name": "anime_id"}),
    IndexSpec(
        "ratings", [("user_id", ASCENDING), ("created_at", DESCENDING)], {"name": "user_recent"}
    ),
    # The embedded server's form of a user's ratings query (see common.indexed_id_filter); sparse,
    # so it stays empty on MongoDB, where ``user_id`` is an ObjectId with no ``id`` path.
    IndexSpec("ratings", [("user_id.id", ASCENDING)], {"name": "user_id_embedded", "sparse": True}),
    IndexSpec(
        "watch_history",
        [("user_id", ASCENDING), ("created_at", DESCENDING)],
        {"name": "user_recent"},
    ),
    IndexSpec(
        "watch_history", [("user_id.id", ASCENDING)], {"name": "user_id_embedded", "sparse": True}
    ),
    IndexSpec(
        "list_entries",
        [("user_id", ASCENDING), ("anime_id", ASCENDING)],
        {"unique": True, "name": "user_anime_unique"},
    ),
    IndexSpec(
        "list_entries",
        [("user_id", ASCENDING), ("updated_at", DESCENDING)],
        {"name": "user_recent"},
    ),
    IndexSpec(
        "list_entries", [("user_id.id", ASCENDING)], {"name": "user_id_embedded", "sparse": True}
    ),
    IndexSpec(
        "model_metrics",
        [("model_name", ASCENDING), ("trained_at", DESCENDING)],
        {"name": "model_recent"},
    ),
    IndexSpec("training_jobs", [("created_at", DESCENDING)], {"name": "recent"}),
    IndexSpec("training_jobs", [("status", ASCENDING)], {"name": "status"}),
    IndexSpec("rate_limits", [("expire_at", ASCENDING)], {"name": "expire_at"}),
)


def ensure_indexes(db: Database) -> None:
    """Create every index in INDEXES that is missing.

    The embedded nx-27017 server does not list text indexes and refuses ("constraint failed") to
    create one that exists, so there that refusal means the index is in place. (It also answers
    ``$text`` without a text index, by scanning every document, so a ``$text`` probe cannot tell.)
    """
    for spec in INDEXES:
        try:
            db[spec.collection].create_index(spec.keys, **spec.options)
        except OperationFailure:
            is_text = any(kind == TEXT for _, kind in spec.keys)
            if not (is_text and on_embedded_server(db)):
                raise
