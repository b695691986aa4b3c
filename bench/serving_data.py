"""Full-scale serving benchmark data: synthetic ratings, trained models, a database to serve from.

    python -m bench.serving_data --out /tmp/serving_bench --db serving_bench

1. bench.synthetic's full-scale ratings (69,600 users, 9,927 anime, 6.34 M ratings and 1.48 M
   watched-not-rated rows); user n becomes the ObjectId ``ab`` + n in hex, item ranks map onto
   the real anime by members.
2. The admin job's training code (training_service.train_all_models) on that frame: every model,
   metrics into ``model_metrics``, every training user's top-N lists, under ``<out>/models``.
3. The database (MONGODB_URI / the embedded server): the anime catalogue, all 69,600 users, the
   complete rating lists of ``--known`` sampled users (the rows a recommendation request reads),
   ``--foldin`` new users with 5-40 ratings each (never trained on) and ``--empty`` users with none.
   Every user's ratings are not imported: the embedded server inserts ~4k documents/s, and a
   request's rating lookup goes through the ``user_id`` index whatever the collection's size.
   Users with ratings carry the ``ratings_changed_at`` stamp of their insertion, which comes
   before the training snapshot (the time the database is filled): like users who have not rated
   since the last training run, known users are answered from their precomputed list without a
   ratings query.
4. ``<out>/users.json``: the three lists of user ids bench/load.py draws from.

``--quick user_based,item_based,ncf,hybrid --epochs 1`` replaces step 2 when the full evaluation
run does not fit the time at hand: the models are fitted on every rating with no split or
evaluation (NCF for ``--epochs``) and published with their lists the same way.
``--users/--items/--ratings`` scale the dataset down; ``--skip-db`` keeps the database.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bson import ObjectId

from app.config import load_config
from app.db.client import connect
from app.db.indexes import ensure_indexes
from app.db.users import RATINGS_CHANGED_AT
from app.services import training_service
from app.services.import_service import _anime_documents, read_anime_csv
from bench.synthetic import FULL_ITEMS, FULL_RATINGS, FULL_USERS, FULL_WATCHED, generate
from ml.data import TrainingData

log = logging.getLogger("bench.serving_data")
ANIME_CSV = Path(__file__).resolve().parent.parent / "data" / "sample" / "anime.csv"
BATCH = 20_000


def user_oid(n: int) -> ObjectId:
    return ObjectId(f"ab{n:022x}")


def synthetic_frame(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ratings with ObjectId-string users and real anime ids, the anime catalogue)."""
    ratings = generate(args.users, args.items, args.ratings, n_watched=args.watched, seed=args.seed)
    anime = read_anime_csv(ANIME_CSV).sort_values("members", ascending=False, kind="stable")
    by_count = ratings["anime_id"].value_counts().index.to_numpy()
    real = anime["anime_id"].to_numpy()[: len(by_count)]
    mapping = pd.Series(real, index=by_count)
    ratings["anime_id"] = mapping.loc[ratings["anime_id"].to_numpy()].to_numpy()
    ratings["user_id"] = [f"ab{n:022x}" for n in ratings["user_id"].to_numpy()]
    ratings["rating"] = ratings["rating"].astype(np.float32)
    return ratings, anime


def _insert(collection: Any, documents: list[dict[str, Any]]) -> None:
    for start in range(0, len(documents), BATCH):
        collection.insert_many(documents[start : start + BATCH], ordered=False)


def fill_database(
    db: Any, ratings: pd.DataFrame, anime: pd.DataFrame, args: argparse.Namespace
) -> dict[str, list[str]]:
    """Catalogue, users and the sampled users' ratings; return the bench's user lists."""
    rng = np.random.default_rng(args.seed)
    for name in ("anime", "users", "ratings", "model_metrics", "training_jobs"):
        db[name].drop()
    ensure_indexes(db)
    _insert(db.anime, _anime_documents(anime, {}))
    now = datetime.now(UTC)
    users = sorted(set(ratings["user_id"]))
    foldin = [str(ObjectId()) for _ in range(args.foldin)]
    empty = [str(ObjectId()) for _ in range(args.empty)]
    blank = set(empty)
    docs = [
        {"_id": ObjectId(u), "username": f"user_{u}", "password_hash": None, "is_admin": False,
         "created_at": now, **({} if u in blank else {RATINGS_CHANGED_AT: now})}
        for u in users + foldin + empty
    ]  # fmt: skip
    _insert(db.users, docs)
    known = sorted(rng.choice(users, size=args.known, replace=False).tolist())
    rows = ratings.loc[ratings["user_id"].isin(set(known)) & (ratings["rating"] >= 0)]
    popular = ratings["anime_id"].value_counts().index.to_numpy()[:2000]
    extra = []
    for user in foldin:
        for anime_id in rng.choice(popular, size=int(rng.integers(5, 41)), replace=False):
            extra.append((user, int(anime_id), float(rng.integers(5, 11))))
    documents = [
        {"user_id": ObjectId(u), "anime_id": int(a), "rating": int(r), "created_at": now}
        for u, a, r in list(rows.itertuples(index=False, name=None)) + extra
    ]
    started = time.perf_counter()
    _insert(db.ratings, documents)
    log.info("inserted %d ratings in %.0f s", len(documents), time.perf_counter() - started)
    return {"known": known, "foldin": foldin, "empty": empty}


def fit_for_serving(
    ratings: pd.DataFrame, names: list[str], epochs: int, models_dir: Path, as_of: datetime
) -> str:
    """Fit ``names`` on every rating (no split, no evaluation), publish them with their lists.

    The quick path for models whose full-scale evaluation run does not fit the time at hand;
    serving reads the same files either way.
    """
    from ml.models import MODEL_CLASSES
    from ml.training.persistence import save_run
    from ml.training.top_n import write_top_n

    models: dict[str, Any] = {}
    for name in names:
        started = time.perf_counter()
        if name == "hybrid":  # blends the components fitted above (fits only its weights)
            parts = {
                f"{part}_model": models[part]
                for part in ("user_based", "item_based", "ncf", "ease")
                if part in models
            }
            model = MODEL_CLASSES[name](**parts)
        else:
            settings = {"epochs": epochs} if name == "ncf" else {}
            model = MODEL_CLASSES[name](**settings)
        models[name] = model.fit(ratings)
        log.info("fitted %s in %.0f s", name, time.perf_counter() - started)
    version = save_run(
        models, models_dir, metrics={}, data_summary={"n_ratings": len(ratings)},
        params={"note": "bench.serving_data --quick"},
    )  # fmt: skip
    started = time.perf_counter()
    write_top_n(models_dir, version, models, snapshot=ratings, ratings_as_of=as_of)
    log.info("wrote the lists of %s in %.0f s", names, time.perf_counter() - started)
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--db", default="serving_bench", help="database name")
    parser.add_argument("--known", type=int, default=3000)
    parser.add_argument("--foldin", type=int, default=500)
    parser.add_argument("--empty", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--users", type=int, default=FULL_USERS, help="synthetic users")
    parser.add_argument("--items", type=int, default=FULL_ITEMS, help="synthetic anime")
    parser.add_argument("--ratings", type=int, default=FULL_RATINGS, help="synthetic ratings")
    parser.add_argument("--watched", type=int, default=FULL_WATCHED, help="watched, not rated")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-db", action="store_true", help="keep the database as it is")
    parser.add_argument("--quick", help="comma-separated models to fit without evaluation")
    parser.add_argument("--epochs", type=int, default=1, help="NCF epochs with --quick")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = load_config()
    db = connect(config.MONGODB_URI, args.db, config.EMBEDDED_DB_PATH)
    ratings, anime = synthetic_frame(args)
    log.info("%d ratings, %d users", len(ratings), ratings["user_id"].nunique())
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.skip_db:
        lists = fill_database(db, ratings, anime, args)
        (args.out / "users.json").write_text(json.dumps(lists))
    as_of = datetime.now(UTC)
    if args.quick:
        fit_for_serving(ratings, args.quick.split(","), args.epochs, args.out / "models", as_of)
    elif not args.skip_training:
        started = time.perf_counter()
        result = training_service.train_all_models(
            db=db,
            models_dir=args.out / "models",
            data=TrainingData(ratings, read_at=as_of),
            progress=lambda step, fraction: log.info("%3.0f%% %s", 100 * fraction, step),
        )
        log.info("trained %s in %.0f s", result["version"], time.perf_counter() - started)
        (args.out / "training.json").write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
