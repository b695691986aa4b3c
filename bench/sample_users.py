"""The users bench/load.py draws from, read from the app's own database (e.g. after `make run`).

    .venv/bin/python -m bench.sample_users --out /tmp/sample_users.json

``known``: users with ratings (those a training run listed); ``empty``: users without any.
``foldin`` stays empty: rate as a user after training to fill it (bench.serving_data builds
such users at full scale).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.config import load_config
from app.db.client import connect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    config = load_config()
    db = connect(config.MONGODB_URI, config.MONGODB_DB, config.EMBEDDED_DB_PATH)
    rated = {str(user) for user in db.ratings.distinct("user_id")}
    everyone = {str(user["_id"]) for user in db.users.find({}, {"_id": 1})}
    lists = {"known": sorted(rated), "foldin": [], "empty": sorted(everyone - rated)}
    args.out.write_text(json.dumps(lists))
    print(json.dumps({name: len(users) for name, users in lists.items()}))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
