"""Recommendations and rating predictions from the registry's current model version.

Who answers: the requested model, from its precomputed list when the user is a training user
whose ratings, watched titles and list have not changed since the snapshot the lists exclude
(the user's ``ratings_changed_at`` stamp, older than the lists' ``ratings_as_of``: one query on
the user, none on the rest); otherwise from the user's current ratings, watched titles and list,
read once and folded into the model (``Recommender.recommend_for_ratings``), so each new rating
counts at once, for users the models know and for new ones. Users with nothing to go on get
popular well-rated anime (``model_used``: popularity). Nothing the user rated, watched or put on
their list is ever recommended. Each item says ``because`` of which of the user's own titles
(models with item-item contributions; an empty list where a model cannot say).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo.database import Database

from app.db import anime as anime_db
from app.db import ratings as ratings_db
from app.errors import BadRequest
from app.services import user_lookup
from app.services.model_registry import ModelRegistry, ModelSet
from app.services.similar_service import get_similar_anime
from app.services.ttl_cache import TtlCache
from app.services.user_state import UserState, read_user_state
from ml.models import DEFAULT_MODEL, SERVED_MODELS
from ml.training.top_n import TopN

__all__ = [
    "DEFAULT_MODEL",
    "SERVED_MODELS",
    "batch_predict",
    "check_model_name",
    "get_recommendations",
    "get_similar_anime",
    "predict_rating",
]

POPULARITY = "popularity"
POPULAR_MIN_MEMBERS = 10_000
MAX_N = 100
MAX_CACHED_ANIME = 50_000  # the whole catalogue (12,294 anime in the Kaggle dataset) fits

Scored = list[tuple[int, float, list[int]]]


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
    if model not in SERVED_MODELS:
        raise BadRequest(f"unknown model {model!r}; valid models: {', '.join(SERVED_MODELS)}")
    return model


def _existing_user_marker(db: Database, user_id: str) -> tuple[ObjectId, datetime | None]:
    """(user ObjectId, when its ratings or list last changed if stamped); BadRequest or
    NotFound."""
    return user_lookup.ratings_marker(user_id, db=db)


def _unchanged_since(top: TopN | None, changed_at: datetime | None) -> bool:
    """True when the list already leaves out everything the user has rated, watched or listed."""
    if top is None or top.ratings_as_of is None or changed_at is None:
        return False
    return changed_at < top.ratings_as_of


def _from_top_n(top: TopN, user: str, n: int) -> Scored | None:
    """The first n entries of the user's precomputed list, when it has them."""
    found = top.for_user(user)
    if found is None:
        return None
    items, ratings, because = found
    picked: Scored = []
    for position, anime_id in enumerate(items[:n].tolist()):
        if anime_id < 0:
            break
        reasons = [] if because is None else [a for a in because[position].tolist() if a >= 0]
        picked.append((anime_id, float(ratings[position]), reasons))
    return picked if len(picked) == n else None


def _folded_in(model: Any, user: str, n: int, state: UserState) -> Scored:
    """The model's list from the user's current state, with reasons from their titles."""
    pairs = model.recommend_for_ratings(
        state.ratings,
        n,
        exclude=state.hidden,
        watched=state.watched,
        user_id=user if model.knows_user(user) else None,
    )
    items = model.items
    seen = items.indices_of(state.seen())
    recommended = items.indices_of([anime_id for anime_id, _ in pairs])
    found = model.reasons(seen[seen >= 0], recommended)
    scored: Scored = []
    for position, (anime_id, rating) in enumerate(pairs):
        reasons = [] if found is None else items.raws_of(found[position][found[position] >= 0])
        scored.append((int(anime_id), float(rating), [int(a) for a in reasons]))
    return scored


def _popular(db: Database, cache: AnimeCache, n: int, hidden: set[int]) -> Scored:
    docs = cache.popular(db, n + len(hidden))
    picked = [doc for doc in docs if int(doc["anime_id"]) not in hidden][:n]
    return [(int(doc["anime_id"]), float(doc.get("rating") or 0.0), []) for doc in picked]


def _answer(
    db: Database,
    snapshot: ModelSet,
    model: str,
    oid: ObjectId,
    changed_at: datetime | None,
    n: int,
    cache: AnimeCache,
) -> tuple[Scored, str]:
    """(recommendations with reasons, the model that answered)."""
    user = str(oid)
    chosen = snapshot.get(model)
    top = snapshot.top_n.get(model)
    if chosen is not None and top is not None and _unchanged_since(top, changed_at):
        listed = _from_top_n(top, user, n)
        if listed is not None:
            return listed, model
    state = read_user_state(db, oid)
    if chosen is not None and not state.is_empty:
        return _folded_in(chosen, user, n, state), model
    return _popular(db, cache, n, state.hidden), POPULARITY


def get_recommendations(
    user_id: str,
    model: str = DEFAULT_MODEL,
    n: int = 10,
    *,
    db: Database,
    registry: ModelRegistry,
    cache: AnimeCache,
) -> dict[str, Any]:
    """``{user_id, recommendations: [{anime_id, predicted_rating, anime, because}], model_used,
    model_version}``."""
    check_model_name(model)
    oid, changed_at = _existing_user_marker(db, user_id)
    snapshot = registry.current()
    scored, used = _answer(db, snapshot, model, oid, changed_at, n, cache)
    mentioned = {anime_id for anime_id, _, _ in scored}
    mentioned.update(reason for _, _, reasons in scored for reason in reasons)
    details = cache.get_many(db, mentioned)
    return {
        "user_id": str(oid),
        "model_used": used,
        "model_version": snapshot.version,
        "recommendations": [
            {
                "anime_id": anime_id,
                "predicted_rating": round(rating, 4),
                "anime": details.get(anime_id),
                "because": [
                    {"anime_id": reason, "name": details.get(reason, {}).get("name")}
                    for reason in reasons
                ],
            }
            for anime_id, rating, reasons in scored
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
    """Predicted ratings of ``anime_ids`` for the user: ``{predictions: [...], model_used}``.

    The model's own predictions for an unchanged training user; from the user's current
    ratings (folded into the model) for anyone else, like the recommendations.
    """
    check_model_name(model)
    oid, changed_at = _existing_user_marker(db, user_id)
    snapshot = registry.current()
    chosen = snapshot.get(model)
    user = str(oid)
    values: list[float | None]
    if chosen is not None:
        unchanged = _unchanged_since(snapshot.top_n.get(model), changed_at)
        if unchanged and chosen.knows_user(user):
            predicted = chosen.predict_many([user] * len(anime_ids), anime_ids)
        else:
            ratings = ratings_db.rating_map_for_user(db, oid)
            known = user if chosen.knows_user(user) else None
            predicted = chosen.predict_for_ratings(ratings, anime_ids, user_id=known)
        values, used = [float(value) for value in np.asarray(predicted)], model
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
