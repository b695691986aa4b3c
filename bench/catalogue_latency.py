"""Latency of the catalogue, ratings, history and keyword-search endpoints on a real database.

    EMBEDDED_DB_PATH=/tmp/bench/anime.db MONGODB_DB=bench python -m scripts.import_data --sample
    EMBEDDED_DB_PATH=/tmp/bench/anime.db MONGODB_DB=bench python -m bench.catalogue_latency

Requests go through the Flask test client (no HTTP server), so the figures are the app's own time:
routing, validation, the service and its queries, serialisation. The database must hold the
imported sample; rating writes use a throw-away user whose data is removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token

from app import create_app
from app.config import load_config
from app.db import get_db

CASES: tuple[tuple[str, str], ...] = (
    ("GET /api/anime (default sort)", "/api/anime"),
    ("GET /api/anime?sort=members&page=50", "/api/anime?sort=members&page=50"),
    ("GET /api/anime?genre=Action,Comedy", "/api/anime?genre=Action,Comedy"),
    ("GET /api/anime?genre=Shounen&sort=name", "/api/anime?genre=Shounen&sort=name"),
    ("GET /api/anime/<id>", "/api/anime/{anime_id}"),
    ("GET /api/anime/genres", "/api/anime/genres"),
    ("GET /api/search?q=naruto", "/api/search?q=naruto"),
    ("GET /api/search?q=narut (partial)", "/api/search?q=narut"),
    ("GET /api/search?q=gundam&genre=Mecha", "/api/search?q=gundam&genre=Mecha"),
    ("GET /api/ratings/user/<id>", "/api/ratings/user/{user_id}"),
    ("GET /api/history/<id> (admin)", "/api/history/{user_id}"),
)


def measure(call: Callable[[], int], repeat: int) -> tuple[float, float]:
    """(median, p95) in milliseconds of ``repeat`` calls after one warm-up; each must be 2xx."""
    timings = []
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        status = call()
        elapsed = (time.perf_counter() - started) * 1000
        if not 200 <= status < 300:
            raise SystemExit(f"unexpected status {status}")
        if attempt:
            timings.append(elapsed)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def _busiest_user(app: Flask) -> str:
    """The user with the most ratings (counted here: nx-27017 cannot ``$group`` on an ObjectId)."""
    with app.app_context():
        cursor = get_db().ratings.find({}, {"_id": 0, "user_id": 1})
        return str(Counter(doc["user_id"] for doc in cursor).most_common(1)[0][0])


def _write_cases(app: Flask, client: FlaskClient, repeat: int) -> list[tuple[str, float, float]]:
    with app.app_context():
        db = get_db()
        user_id = db.users.insert_one(
            {"username": "bench_catalogue", "is_admin": False}
        ).inserted_id
        headers = {"Authorization": f"Bearer {create_access_token(identity=str(user_id))}"}
    try:
        anime_ids = iter(range(1, 100_000))

        def rate_new() -> int:
            while True:
                anime_id = next(anime_ids)
                response = client.post(
                    "/api/ratings", json={"anime_id": anime_id, "rating": 7}, headers=headers
                )
                if response.status_code != 404:
                    return response.status_code

        def rerate() -> int:
            body = {"anime_id": 1, "rating": 8}
            return client.post("/api/ratings", json=body, headers=headers).status_code

        return [
            ("POST /api/ratings (new)", *measure(rate_new, repeat)),
            ("POST /api/ratings (re-rate)", *measure(rerate, repeat)),
        ]
    finally:
        with app.app_context():
            db.ratings.delete_many({"user_id": {"$in": [user_id]}})
            db.watch_history.delete_many({"user_id": {"$in": [user_id]}})
            db.users.delete_one({"_id": user_id})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per endpoint")
    args = parser.parse_args(argv)
    app = create_app(load_config())
    client = app.test_client()
    user_id = _busiest_user(app)
    with app.app_context():
        admin = get_db().users.insert_one({"username": "bench_admin", "is_admin": True}).inserted_id
        admin_headers = {"Authorization": f"Bearer {create_access_token(identity=str(admin))}"}
    try:
        results = []
        for label, template in CASES:
            url = template.format(anime_id=5114, user_id=user_id)

            def call(url: str = url) -> int:
                return client.get(url, headers=admin_headers).status_code

            results.append((label, *measure(call, args.repeat)))
        results.extend(_write_cases(app, client, args.repeat))
    finally:
        with app.app_context():
            get_db().users.delete_one({"_id": admin})
    print(f"| endpoint | median ms | p95 ms |  ({args.repeat} calls each)")  # noqa: T201
    print("|---|---:|---:|")  # noqa: T201
    for label, median, p95 in results:
        print(f"| {label} | {median:.1f} | {p95:.1f} |")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
