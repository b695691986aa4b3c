"""Fixed-window rate-limit counters in the ``rate_limits`` collection.

Only plain operations ($inc, $set, insert) so the embedded nx-27017 server runs them too (limits'
own MongoDB storage needs pipeline updates it lacks). Expiry times are epoch seconds (numbers):
nx-27017 turns a datetime written by ``$set`` into a string.
"""

from __future__ import annotations

import time

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

ATTEMPTS = 3


def incr(db: Database, key: str, expiry: int, amount: int = 1) -> int:
    """Add ``amount`` to the key's counter in its current window; start a new window if none."""
    counters = db.rate_limits
    for _ in range(ATTEMPTS):
        now = time.time()
        live = counters.find_one_and_update(
            {"_id": key, "expire_at": {"$gt": now}},
            {"$inc": {"count": amount}},
            return_document=ReturnDocument.AFTER,
        )
        if live:
            return int(live["count"])
        window = {"count": amount, "expire_at": now + expiry}
        if counters.find_one_and_update({"_id": key, "expire_at": {"$lte": now}}, {"$set": window}):
            return amount
        try:
            counters.insert_one({"_id": key, **window})
        except DuplicateKeyError:
            continue  # another worker opened the window meanwhile: count in it
        counters.delete_many({"expire_at": {"$lt": now}})  # old keys of gone clients
        return amount
    raise RuntimeError(f"rate-limit counter {key!r} kept changing")


def get(db: Database, key: str) -> int:
    """The key's count in its current window (0 when there is none)."""
    live = db.rate_limits.find_one({"_id": key, "expire_at": {"$gt": time.time()}})
    return int(live["count"]) if live else 0


def get_expiry(db: Database, key: str) -> float:
    """When the key's window ends (epoch seconds); now when there is none."""
    document = db.rate_limits.find_one({"_id": key})
    return float(document["expire_at"]) if document else time.time()


def clear(db: Database, key: str) -> None:
    db.rate_limits.delete_one({"_id": key})


def reset(db: Database) -> int:
    """Delete every counter; return how many there were."""
    return db.rate_limits.delete_many({}).deleted_count
