"""Recommendations and rating predictions from the registry's current model version.

Who answers, in order: the requested model when it knows the user (its precomputed top-N list
when the training job saved one, else scored now); item-based fold-in from the user's current
ratings when the models never saw the user; popular well-rated anime when the user has no
ratings yet. ``model_used`` always names what answered. Anything rated since training is left out.

A known user whose ratings have not changed since the snapshot the precomputed lists exclude
(the ``ratings_changed_at`` stamp on the user, older than the lists' ``ratings_as_of``) is
answered from the list alone: one query on the user, none on the ratings. Anyone else's ratings
are read, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from app.db import anime as anime_db
from app.db import ratings as ratings_db
from app.errors import BadRequest
from app.services import user_lookup
from app.services.model_registry import ModelRegistry, ModelSet, TopN
from app.services.similar_service import get_similar_anime
from app.services.ttl_cache import TtlCache

__all__ = [
    "batch_predict",
    "check_model_name",
    "get_recommendations",
    "get_similar_anime",
    "predict_rating",
]

VALID_MODELS = ("user_based", "item_based", "ncf", "hybrid")
DEFAULT_MODEL = "hybrid"
FOLD_IN_MODEL = "item_based"
FOLD_IN = "item_based_foldin"
POPULARITY = "popularity"
POPULAR_MIN_MEMBERS = 10_000
MAX_N = 100
MAX_CACHED_ANIME = 50_000  # the whole catalogue (12,294 anime in the Kaggle dataset) fits


class AnimeCache:
    """The worker's copy of anime details by id, and of the popular list, each kept ``ttl`` s.

    Recommendations keep naming the same few thousand anime, so after warm-up a request needs no
    anime query at all; a miss costs one ``$in`` query for every missing id together.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._docs: TtlCache[int, dict[str, Any]] = TtlCache(ttl, maxsize=MAX_CACHED_ANIME)
        self._popular: TtlCache[int, list[dict[str, Any]]] = TtlCache(ttl, maxsize=2)

    def get_many(self, db: Database, anime_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """anime_id -> document for the ids that exist; one query for all the missing ones."""
        ids = [int(anime_id) for anime_id in anime_ids]
        return self._docs.get_many(ids, lambda missing: anime_db.find_by_ids(db, missing))

    def popular(self, db: Database, limit: int) -> list[dict[str, Any]]:
        """Popular well-rated anime, best first (at least ``limit`` when the catalogue has them).

        Those with ``POPULAR_MIN_MEMBERS`` members or more; any anime when they are too few.
        """
        found = self._popular.get(
            POPULAR_MIN_MEMBERS, lambda: self._fetch_popular(db, POPULAR_MIN_MEMBERS)
        )
        if len(found) < limit:
            found = self._popular.get(0, lambda: self._fetch_popular(db, 0))
        return found

    def _fetch_popular(self, db: Database, min_members: int) -> list[dict[str, Any]]:
        found = anime_db.find_popular(db, min_members=min_members, limit=MAX_N * 2)
        self._docs.put_many({int(doc["anime_id"]): doc for doc in found})
        return found


def check_model_name(model: str) -> str:
    if model not in VALID_MODELS:
        raise BadRequest(f"unknown model {model!r}; valid models: {', '.join(VALID_MODELS)}")
    return model


def _existing_user_marker(db: Database, user_id: str) -> tuple[ObjectId, datetime | None]:
    """(user ObjectId, when its ratings last changed if stamped); BadRequest or NotFound."""
    return user_lookup.ratings_marker(user_id, db=db)


def _unchanged_since(top: TopN | None, changed_at: datetime | None) -> bool:
    """True when the list already leaves out everything the user has rated."""
    if top is None or top.ratings_as_of is None or changed_at is None:
        return False
    return changed_at < top.ratings_as_of


def _from_top_n(
    snapshot: ModelSet, model: str, user: str, n: int, rated: Mapping[int, float]
) -> list[tuple[int, float]] | None:
    """The precomputed list minus what the user rated since training, when it still holds n."""
    top = snapshot.top_n.get(model)
    found = top.for_user(user) if top is not None else None
    if found is None:
        return None
    items, scores = found
    picked: list[tuple[int, float]] = []
    for anime_id, score in zip(items.tolist(), scores.tolist(), strict=True):
        if anime_id >= 0 and anime_id not in rated:
            picked.append((anime_id, score))
            if len(picked) == n:
                return picked
    return None


def _popular(db: Database, cache: AnimeCache, n: int, rated: Mapping[int, float]) -> list:
    docs = cache.popular(db, n + len(rated))
    picked = [doc for doc in docs if int(doc["anime_id"]) not in rated][:n]
    return [(int(doc["anime_id"]), float(doc.get("rating") or 0.0)) for doc in picked]


def _recommend(
    snapshot: ModelSet, model: str, user: str, n: int, rated: Mapping[int, float]
) -> tuple[list[tuple[Any, float]], str] | None:
    chosen = snapshot.get(model)
    if chosen is not None and chosen.knows_user(user):
        listed = _from_top_n(snapshot, model, user, n, rated)
        if listed is not None:
            return listed, model
        return chosen.recommend(user, n, exclude=list(rated)), model
    fold_in = snapshot.get(FOLD_IN_MODEL)
    if rated and fold_in is not None:
        return fold_in.recommend_for_ratings(rated, n, exclude=list(rated)), FOLD_IN
    return None


def get_recommendations(
    user_id: str,
    model: str = DEFAULT_MODEL,
    n: int = 10,
    *,
    db: Database,
    registry: ModelRegistry,
    cache: AnimeCache,
) -> dict[str, Any]:
    """``{user_id, recommendations: [{anime_id, predicted_rating, anime}], model_used, ...}``."""
    check_model_name(model)
    oid, changed_at = _existing_user_marker(db, user_id)
    snapshot = registry.current()
    user = str(oid)
    listed = None
    if _unchanged_since(snapshot.top_n.get(model), changed_at):
        listed = _from_top_n(snapshot, model, user, n, {})
    if listed is not None:
        pairs, used = listed, model
    else:
        rated = ratings_db.rating_map_for_user(db, oid)
        answer = _recommend(snapshot, model, user, n, rated)
        pairs, used = answer if answer is not None else (_popular(db, cache, n, rated), POPULARITY)
    details = cache.get_many(db, [int(anime_id) for anime_id, _ in pairs])
    return {
        "user_id": str(oid),
        "model_used": used,
        "model_version": snapshot.version,
        "recommendations": [
            {
                "anime_id": int(anime_id),
                "predicted_rating": round(float(score), 4),
                "anime": details.get(int(anime_id)),
            }
            for anime_id, score in pairs
        ],
    }


def batch_predict(
    user_id: str,
    anime_ids: list[int],
    model: str = DEFAULT_MODEL,
    *,
    db: Database,
    registry: ModelRegistry,
    cache: AnimeCache,
) -> dict[str, Any]:
    """Predicted ratings of ``anime_ids`` for the user: ``{predictions: [...], model_used}``."""
    check_model_name(model)
    oid, _ = _existing_user_marker(db, user_id)
    snapshot = registry.current()
    user = str(oid)
    chosen = snapshot.get(model)
    if chosen is not None and chosen.knows_user(user):
        values, used = chosen.predict_many([user] * len(anime_ids), anime_ids).tolist(), model
    else:
        rated = ratings_db.rating_map_for_user(db, oid)
        fold_in = snapshot.get(FOLD_IN_MODEL)
        if rated and fold_in is not None:
            values, used = fold_in.predict_for_ratings(rated, anime_ids).tolist(), FOLD_IN
        else:
            docs = cache.get_many(db, anime_ids)
            values = [docs.get(anime_id, {}).get("rating") for anime_id in anime_ids]
            used = POPULARITY
    return {
        "user_id": user,
        "model_used": used,
        "predictions": [
            {
                "anime_id": anime_id,
                "predicted_rating": None if value is None else round(float(value), 4),
            }
            for anime_id, value in zip(anime_ids, values, strict=True)
        ],
    }


def predict_rating(
    user_id: str,
    anime_id: int,
    model: str = DEFAULT_MODEL,
    *,
    db: Database,
    registry: ModelRegistry,
    cache: AnimeCache,
) -> dict[str, Any]:
    """One predicted rating: ``{user_id, anime_id, predicted_rating, model_used}``."""
    answer = batch_predict(user_id, [anime_id], model, db=db, registry=registry, cache=cache)
    prediction = answer["predictions"][0]
    return {
        "user_id": answer["user_id"],
        "anime_id": anime_id,
        "predicted_rating": prediction["predicted_rating"],
        "model_used": answer["model_used"],
    }
