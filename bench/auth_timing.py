"""Argon2id cost and login timing (equal for unknown users), and the rate limiter's overhead.

    nice .venv/bin/python -m bench.auth_timing              # mongomock database
    nice .venv/bin/python -m bench.auth_timing --embedded   # the embedded nx-27017 server

Requests go through the Flask test client with production's Argon2 cost (OWASP's minimum unless
ARGON2_* say otherwise); each figure is the median of ``--repeat`` requests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mongomock
from pymongo import MongoClient

from app import create_app
from app.config import TestingConfig
from app.db.embedded import ensure_embedded_server, stop_embedded_server
from app.services.auth_service import Passwords

OWASP = {"ARGON2_TIME_COST": "2", "ARGON2_MEMORY_COST": "19456", "LOG_LEVEL": "WARNING"}


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def run(db: Any, repeat: int) -> None:
    passwords = Passwords(time_cost=2, memory_cost=19456)
    hash_ms = median_ms(lambda: passwords.hash("pw-123456"), repeat)
    print(f"argon2id hash (t=2, m=19 MiB, p=1): {hash_ms:.1f} ms")  # noqa: T201

    app = create_app(TestingConfig({**OWASP, "RATELIMIT_ENABLED": "false"}), db=db)
    client = app.test_client()
    client.post(
        "/api/auth/register",
        json={"username": "bench", "email": "bench@example.com", "password": "right-pass"},
    )
    db.users.insert_one({"username": "mal_1", "password_hash": None, "is_admin": False})

    def login(username: str, password: str) -> Callable[[], Any]:
        body = {"username": username, "password": password}
        return lambda: client.post("/api/auth/login", json=body)

    cases = {
        "login, right password (200)": login("bench", "right-pass"),
        "login, wrong password (401)": login("bench", "wrong-pass"),
        "login, unknown user (401)": login("nobody", "wrong-pass"),
        "login, imported user without password (401)": login("mal_1", "wrong-pass"),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):  # interleaved, so load from other processes hits every case alike
        for name, action in cases.items():
            samples[name].append(median_ms(action, 1))
    for name, values in samples.items():
        print(f"{name}: {statistics.median(values):.1f} ms")  # noqa: T201

    class NoArgon2:
        """Reference only: what a failed login would cost without any hash verification."""

        def verify(self, _hash: str | None, _password: str) -> bool:
            return False

    app.extensions["passwords"] = NoArgon2()
    reference = median_ms(login("nobody", "wrong-pass"), repeat)
    print(f"reference, unknown user if no hash were verified: {reference:.1f} ms")  # noqa: T201

    for label, settings in (
        ("no rate limiting", {"RATELIMIT_ENABLED": "false"}),
        ("memory://", {"RATELIMIT_STORAGE_URI": "memory://"}),
        ("database://", {"RATELIMIT_STORAGE_URI": "database://"}),
    ):
        settings = {**settings, "RATELIMIT_DEFAULT": "1000000/minute", "LOG_LEVEL": "WARNING"}
        limited = create_app(TestingConfig(settings), db=db)
        health = limited.test_client()
        ms = median_ms(lambda health=health: health.get("/api/anime/genres"), repeat * 5)
        print(f"GET /api/anime/genres with {label}: {ms:.2f} ms")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedded", action="store_true", help="use the nx-27017 server")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    if not args.embedded:
        run(mongomock.MongoClient(tz_aware=True).bench, args.repeat)
        return
    db_path = Path(tempfile.mkdtemp()) / "bench.db"
    uri = ensure_embedded_server(db_path)
    try:
        run(MongoClient(uri, tz_aware=True).bench, args.repeat)
    finally:
        stop_embedded_server(db_path)


if __name__ == "__main__":
    main()
