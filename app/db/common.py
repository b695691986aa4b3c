"""Query helpers shared by the data-access modules."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.collection import Collection


def count(collection: Collection, query: dict[str, Any] | None = None) -> int:
    """Count matching documents with a ``$match`` + ``$count`` pipeline.

    Same result as ``count_documents`` on MongoDB, and far faster on the embedded nx-27017 server,
    where ``count_documents`` scans.
    """
    pipeline: list[dict[str, Any]] = [{"$match": query or {}}, {"$count": "n"}]
    result = list(collection.aggregate(pipeline))
    return int(result[0]["n"]) if result else 0


def to_object_id(value: Any) -> ObjectId | None:
    """The ObjectId for ``value`` (an ObjectId or its 24-hex string), or None when malformed."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str):
        try:
            return ObjectId(value)
        except InvalidId:
            return None
    return None
