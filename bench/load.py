"""Load generator for the recommendations endpoint (run it in its own process, loopback only).

    python -m bench.load --base http://127.0.0.1:8000 --users /tmp/serving_bench/users.json \
        --scenario hybrid --duration 20 --concurrency 8 --pid-file /tmp/gunicorn.pid

Closed loop: ``--concurrency`` threads, each with one keep-alive connection, send GET
/api/recommendations/<user>?model=...&n=10 for users drawn at random from the scenario's list
(``known`` users for the four models, ``foldin`` users -- registered after training, with
ratings -- for ``foldin``, ``empty`` users for ``popularity``) until ``--duration`` seconds or
``--max-requests`` requests. Prints one JSON line: requests, errors, requests/s, latency
p50/p90/p99/max in ms, the model_used counts and, with ``--pid-file`` (gunicorn's), each worker's
RSS and PSS in MiB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCENARIOS = {
    "hybrid": ("known", "hybrid"),
    "ncf": ("known", "ncf"),
    "item_based": ("known", "item_based"),
    "user_based": ("known", "user_based"),
    "foldin": ("foldin", "hybrid"),
    "popularity": ("empty", "hybrid"),
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Worker(threading.Thread):
    def __init__(self, base: str, paths: list[str], stop_at: float, budget: list[int]) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(base)
        host = parts.hostname or "127.0.0.1"
        self.connection = http.client.HTTPConnection(host, parts.port, timeout=30)
        self.paths, self.stop_at, self.budget = paths, stop_at, budget
        self.latencies: list[float] = []
        self.errors = 0
        self.used: Counter[str] = Counter()
        self.rng = random.Random()

    def _take(self) -> bool:
        with LOCK:
            if self.budget[0] <= 0:
                return False
            self.budget[0] -= 1
            return True

    def run(self) -> None:
        while time.monotonic() < self.stop_at and self._take():
            path = self.rng.choice(self.paths)
            started = time.perf_counter()
            try:
                self.connection.request("GET", path)
                response = self.connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.errors += 1
                self.connection.close()
                continue
            self.latencies.append(time.perf_counter() - started)
            if response.status != 200:
                self.errors += 1
            else:
                self.used[json.loads(body).get("model_used", "?")] += 1
        self.connection.close()


LOCK = threading.Lock()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def worker_memory(pid_file: Path) -> list[dict[str, float]]:
    """RSS and PSS (MiB) of each child of the gunicorn master whose pid is in ``pid_file``."""
    master = int(pid_file.read_text().strip())
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    report = []
    for pid in children:
        fields: dict[str, float] = {"pid": float(pid)}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                fields[key.lower() + "_mib"] = round(int(rest.split()[0]) / 1024, 1)
        report.append(fields)
    return report


def run(args: argparse.Namespace) -> dict[str, Any]:
    if urlsplit(args.base).hostname not in LOOPBACK:
        raise SystemExit("bench.load only targets a server on this machine (loopback)")
    group, model = SCENARIOS[args.scenario]
    users = json.loads(Path(args.users).read_text())[group]
    paths = [f"/api/recommendations/{user}?model={model}&n={args.n}" for user in users]
    budget = [args.warmup]
    deadline = time.monotonic() + 60
    warm = [Worker(args.base, paths, deadline, budget) for _ in range(args.concurrency)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    budget = [args.max_requests]
    started = time.monotonic()
    workers = [
        Worker(args.base, paths, started + args.duration, budget) for _ in range(args.concurrency)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - started
    latencies = [value for worker in workers for value in worker.latencies]
    used: Counter[str] = Counter()
    for worker in workers:
        used.update(worker.used)
    result: dict[str, Any] = {
        "scenario": args.scenario,
        "concurrency": args.concurrency,
        "requests": len(latencies),
        "errors": sum(worker.errors for worker in workers),
        "seconds": round(elapsed, 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        **{
            f"{name}_ms": round(1000 * percentile(latencies, q), 1)
            for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        },
        "model_used": dict(used),
    }
    if args.pid_file:
        result["workers"] = worker_memory(Path(args.pid_file))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--users", required=True, help="users.json from bench.serving_data")
    parser.add_argument("--scenario", choices=SCENARIOS, default="hybrid")
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds (at most)")
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pid-file", help="gunicorn's --pid file: report worker memory")
    args = parser.parse_args(argv)
    print(json.dumps(run(args)))  # noqa: T201 - the CLI's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
