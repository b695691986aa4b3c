"""``RATELIMIT_STORAGE_URI=database://``: rate-limit counts in the app's own MongoDB.

Every gunicorn worker shares them, on any MONGODB_URI including the embedded nx-27017 server
(where limits' ``mongodb://`` storage does not work). Fixed-window strategy only.
"""

from __future__ import annotations

from limits.storage import Storage
from pymongo.errors import PyMongoError

from app.db import get_db, rate_limits


class DatabaseStorage(Storage):
    """A limits storage over ``app.db.rate_limits``, on the database of the current app."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: object) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception]:
        return PyMongoError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return rate_limits.incr(get_db(), key, expiry, amount)

    def get(self, key: str) -> int:
        return rate_limits.get(get_db(), key)

    def get_expiry(self, key: str) -> float:
        return rate_limits.get_expiry(get_db(), key)

    def check(self) -> bool:
        try:
            get_db().command("ping")
        except PyMongoError:
            return False
        return True

    def reset(self) -> int | None:
        return rate_limits.reset(get_db())

    def clear(self, key: str) -> None:
        rate_limits.clear(get_db(), key)
