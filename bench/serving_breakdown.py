"""Where one recommendation request's time goes: database queries vs everything else.

    MONGODB_URI=embedded EMBEDDED_DB_PATH=/tmp/serving_bench/bench.db MONGODB_DB=serving_bench \
    MODELS_DIR=/tmp/serving_bench/models RATELIMIT_ENABLED=false LOG_LEVEL=WARNING \
    python -m bench.serving_breakdown --users /tmp/serving_bench/users_1000.json

In-process (Flask test client, one request at a time, no HTTP server): every function of the
data-access modules a request reads (users, ratings, list entries, watch history) is timed.
Prints the medians per scenario, in ms.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app import create_app
from app.db import list_entries, ratings, users, watch_history

DATA_ACCESS = (users, ratings, list_entries, watch_history)

SCENARIOS = (
    ("ncf", "known", "ncf"),
    ("item_based", "known", "item_based"),
    ("hybrid", "known", "hybrid"),
    ("foldin", "foldin", "hybrid"),
    ("popularity", "empty", "hybrid"),
)
spent = {"db": 0.0}


def timed(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent["db"] += time.perf_counter() - started

    return wrapper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", required=True, help="users.json from bench.serving_data")
    parser.add_argument("--requests", type=int, default=140)
    args = parser.parse_args(argv)
    for module in DATA_ACCESS:
        for name, function in list(vars(module).items()):
            if inspect.isfunction(function) and function.__module__ == module.__name__:
                setattr(module, name, timed(function))
    client = create_app().test_client()
    lists = json.loads(Path(args.users).read_text())
    for scenario, group, model in SCENARIOS:
        users = lists[group][: args.requests + 10]
        totals, database = [], []
        for position, user in enumerate(users):
            spent["db"] = 0.0
            started = time.perf_counter()
            response = client.get(f"/api/recommendations/{user}?model={model}&n=10")
            if response.status_code != 200:
                raise SystemExit(f"{scenario}: {response.status_code} {response.get_data()!r}")
            if position >= 10:  # the first ten warm the caches
                totals.append(time.perf_counter() - started)
                database.append(spent["db"])
        if not totals:
            continue
        rest = [total - db for total, db in zip(totals, database, strict=True)]
        result = {
            "scenario": scenario,
            "total_ms": round(1000 * statistics.median(totals), 1),
            "db_ms": round(1000 * statistics.median(database), 1),
            "rest_ms": round(1000 * statistics.median(rest), 1),
        }
        print(json.dumps(result))  # noqa: T201 - the CLI's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
