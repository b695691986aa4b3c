"""Hot reload under load: publish a new model version and time until every answer carries it.

    python -m bench.reload_check --base http://127.0.0.1:8765 \
        --models-dir /tmp/serving_bench/models --users /tmp/serving_bench/users_1000.json

Copies the served version's directory to a new version (as a training run would write it),
replaces manifest.json atomically, then polls GET /api/recommendations/<user>?model=... until
``--confirm`` answers in a row name the new version. Run bench.load at the same time to see
that no request fails during the swap. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

from ml.training.persistence import new_version, read_manifest, write_manifest


def publish_copy(models_dir: Path) -> str:
    """A new version that is a copy of the served one; return its name."""
    manifest = read_manifest(models_dir)
    if manifest is None:
        raise SystemExit(f"no manifest in {models_dir}")
    old, version = manifest["version"], new_version()
    shutil.copytree(models_dir / "versions" / old, models_dir / "versions" / version)
    for entry in manifest["models"].values():
        entry["path"] = entry["path"].replace(f"versions/{old}/", f"versions/{version}/")
        entry["version"] = version
    manifest["version"] = version
    write_manifest(models_dir, manifest)
    return version


def served_version(url: str) -> tuple[int, Any]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        return response.status, json.loads(response.read()).get("model_version")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--users", required=True)
    parser.add_argument("--model", default="ncf")
    parser.add_argument("--confirm", type=int, default=20, help="answers in a row to agree")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    user = json.loads(Path(args.users).read_text())["known"][0]
    url = f"{args.base}/api/recommendations/{user}?model={args.model}&n=10"
    before = served_version(url)[1]
    started = time.monotonic()
    version = publish_copy(args.models_dir)
    published = time.monotonic() - started
    in_a_row, answers, first_new = 0, 0, None
    while in_a_row < args.confirm and time.monotonic() - started < args.timeout:
        status, served = served_version(url)
        answers += 1
        if status == 200 and served == version:
            first_new = first_new or time.monotonic() - started
            in_a_row += 1
        else:
            in_a_row = 0
        time.sleep(0.05)
    result = {
        "old_version": before,
        "new_version": version,
        "publish_s": round(published, 2),
        "first_answer_with_new_s": round(first_new, 2) if first_new else None,
        "all_workers_new_s": round(time.monotonic() - started, 2) if in_a_row else None,
        "answers_polled": answers,
    }
    print(json.dumps(result))  # noqa: T201 - the CLI's output
    return 0 if in_a_row >= args.confirm else 1


if __name__ == "__main__":
    raise SystemExit(main())
