"""Admin dashboard: catalogue and rating statistics (cached briefly) and model metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from app.db import anime as anime_db
from app.db import model_metrics as metrics_db
from app.db import ratings as ratings_db
from app.db import training_jobs as jobs_db
from app.db import users as users_db
from app.services.model_registry import ModelRegistry
from app.services.training_jobs import public as public_job
from app.services.ttl_cache import TtlCache
from ml.models import REFERENCE_MODELS, SERVED_MODELS

TOP_GENRES = 10
MOST_RATED = 10
HISTORY_LIMIT = 50
RATING_SCALE = range(1, 11)
STATS_KEY = "stats"


def compute_stats(db: Database) -> dict[str, Any]:
    """Counts, rating distribution 1-10, top genres and most rated anime (aggregations)."""
    distribution = ratings_db.rating_distribution(db)
    genres = sorted(anime_db.genre_counts(db), key=lambda row: (-row["count"], row["genre"]))
    most = ratings_db.most_rated(db, MOST_RATED)
    details = anime_db.find_by_ids(db, [anime_id for anime_id, _ in most])
    return {
        "users": users_db.count_users(db),
        "anime": anime_db.count_anime(db),
        "ratings": sum(distribution.values()),
        "rating_distribution": {str(value): distribution.get(value, 0) for value in RATING_SCALE},
        "top_genres": genres[:TOP_GENRES],
        "most_rated_anime": [
            {
                "anime_id": anime_id,
                "ratings": count,
                "name": details.get(anime_id, {}).get("name"),
            }
            for anime_id, count in most
        ],
        "computed_at": datetime.now(UTC),
    }


def get_stats(*, db: Database, cache: TtlCache[str, dict[str, Any]]) -> dict[str, Any]:
    """The dashboard statistics, recomputed at most every ``cache.ttl`` seconds per worker."""
    return cache.get(STATS_KEY, lambda: compute_stats(db))


def _metric_document(doc: dict[str, Any] | None) -> dict[str, Any]:
    """A model_metrics document as the API shows it (ids as strings)."""
    if not doc:
        return {}
    shown = dict(doc)
    if shown.get("job_id") is not None:
        shown["job_id"] = str(shown["job_id"])
    return shown


def get_metrics(*, db: Database, registry: ModelRegistry) -> dict[str, Any]:
    """Latest metrics per served model and per reference (baseline, popularity, EASE^R: the
    same run's split), the history of runs and jobs, and what this worker serves."""
    latest = {name: metrics_db.latest_for(db, name) for name in SERVED_MODELS}
    references = {name: metrics_db.latest_for(db, name) for name in REFERENCE_MODELS}
    trained = [doc["trained_at"] for doc in latest.values() if doc and doc.get("trained_at")]
    return {
        "metrics": {name: _metric_document(doc) for name, doc in latest.items()},
        "references": {name: _metric_document(doc) for name, doc in references.items()},
        "last_trained": max(trained) if trained else None,
        "history": [_metric_document(doc) for doc in metrics_db.recent(db, HISTORY_LIMIT)],
        "jobs": [public_job(job) for job in jobs_db.recent(db)],
        "serving": registry.status(),
    }
