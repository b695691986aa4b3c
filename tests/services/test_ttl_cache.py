"""The worker's cache: values expire after their ttl, missing ones are fetched together."""

from __future__ import annotations

import threading
import time

from app.services.ttl_cache import TtlCache


def test_get_recomputes_only_when_stale() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(10, timer=lambda: now[0])
    calls = iter(range(1, 100))
    assert cache.get("k", lambda: next(calls)) == 1
    now[0] = 9.9
    assert cache.get("k", lambda: next(calls)) == 1
    now[0] = 10.0
    assert cache.get("k", lambda: next(calls)) == 2
    assert cache.get("other", lambda: next(calls)) == 3


def test_get_many_fetches_every_missing_key_in_one_call() -> None:
    now = [0.0]
    cache: TtlCache[int, str] = TtlCache(10, maxsize=100, timer=lambda: now[0])
    fetched: list[list[int]] = []

    def fetch(missing: list[int]) -> dict[int, str]:
        fetched.append(missing)
        return {key: f"doc{key}" for key in missing if key != 404}

    assert cache.get_many([1, 2, 404], fetch) == {1: "doc1", 2: "doc2"}
    cache.put_many({3: "doc3"})
    assert cache.get_many([3, 2, 1, 5], fetch) == {3: "doc3", 2: "doc2", 1: "doc1", 5: "doc5"}
    assert fetched == [[1, 2, 404], [5]]
    now[0] = 10.0
    cache.get_many([1], fetch)
    assert fetched[-1] == [1]


def test_concurrent_callers_wait_for_one_computation() -> None:
    cache: TtlCache[str, int] = TtlCache(60)
    runs: list[int] = []

    def compute() -> int:
        runs.append(1)
        time.sleep(0.05)
        return 42

    threads = [threading.Thread(target=cache.get, args=("k", compute)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert runs == [1]
