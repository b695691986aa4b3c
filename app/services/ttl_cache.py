"""The worker's caches: values kept for a while per process (cachetools' TTLCache, locked)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

from cachetools import TTLCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values by key, each dropped ``ttl`` seconds after it was stored; at most ``maxsize`` kept.

    Thread-safe: ``get`` computes a missing value under the lock, so callers asking at once wait
    for one computation instead of each running it.
    """

    def __init__(
        self, ttl: float, *, maxsize: int = 1, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._values: TTLCache[K, V] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value stored for ``key``, or ``compute()`` stored and returned."""
        with self._lock:
            try:
                return self._values[key]
            except KeyError:  # never stored, or expired
                value = compute()
                self._values[key] = value
                return value

    def get_many(self, keys: Iterable[K], fetch: Callable[[list[K]], Mapping[K, V]]) -> dict[K, V]:
        """key -> value for every key that has one; one ``fetch(missing)`` for the keys not stored.

        ``fetch`` runs outside the lock (it is a query), and what it finds is stored.
        """
        wanted = list(keys)
        found: dict[K, V] = {}
        with self._lock:
            for key in wanted:
                try:
                    found[key] = self._values[key]
                except KeyError:
                    continue
        missing = [key for key in wanted if key not in found]
        if missing:
            fetched = fetch(missing)
            self.put_many(fetched)
            found.update(fetched)
        return {key: found[key] for key in wanted if key in found}

    def put_many(self, values: Mapping[K, V]) -> None:
        """Store every value (each for ``ttl`` seconds from now)."""
        with self._lock:
            self._values.update(values)
