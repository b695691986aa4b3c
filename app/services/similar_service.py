"""Similar anime for a user: item-based CF neighbours blended with content neighbours (FAISS).

For a candidate c of anime a:

    similarity_score(c) = CF_WEIGHT * cf(a, c) + (1 - CF_WEIGHT) * content(a, c)

cf is the item-based model's adjusted-cosine similarity ("people who liked a also liked c"; 0 when
c is not among a's stored neighbours), content the cosine of the two anime's text embeddings.
When only one source can answer (no trained item-based model or a cold anime it never saw; or no
search index) its similarity is the score alone, and ``method`` says which answered:
"hybrid", "collaborative" or "content". The anime itself and what the user rated are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from bson import ObjectId
from pymongo.database import Database

from app.db import anime as anime_db
from app.errors import NotFound, ServiceUnavailable
from app.services.anime_service import to_public
from app.services.user_lookup import require_user
from app.services.user_state import read_user_state
from ml.exceptions import IndexNotBuiltError

log = logging.getLogger(__name__)

CF_WEIGHT = 0.5
MAX_FETCH = 500
CF_MODEL_NAME = "item_based"


class ContentIndex(Protocol):
    def similar(self, anime_id: int, k: int) -> list[tuple[int, float]]: ...

    def current(self) -> Any: ...


class AnimeDocuments(Protocol):
    def get_many(self, db: Database, anime_ids: Iterable[int]) -> dict[int, dict[str, Any]]: ...


class NeighbourModel(Protocol):
    def neighbours(self, anime_id: Any, k: int = 10) -> list[tuple[Any, float]]: ...


def _cf_model(registry: Any) -> NeighbourModel | None:
    """The registry's item-based model when one is loaded, else None."""
    if registry is None:
        return None
    try:
        model = registry.get(CF_MODEL_NAME)
    except Exception:  # noqa: BLE001 - no trained model is an answer, not an error
        log.debug("no item-based model for similar anime", exc_info=True)
        return None
    return model if hasattr(model, "neighbours") else None


def _content(index: ContentIndex | None, anime_id: int, k: int) -> list[tuple[int, float]] | None:
    if index is None:
        return None
    try:
        return index.similar(anime_id, k)
    except IndexNotBuiltError:
        return None


def _blend(
    cf: dict[int, float], content: dict[int, float], exact_content: dict[int, float]
) -> tuple[dict[int, float], str]:
    if cf and content:
        candidates = set(cf) | set(content)
        scores = {
            c: CF_WEIGHT * cf.get(c, 0.0)
            + (1 - CF_WEIGHT) * content.get(c, exact_content.get(c, 0.0))
            for c in candidates
        }
        return scores, "hybrid"
    if cf:
        return cf, "collaborative"
    return content, "content"


def _documents(
    db: Database, cache: AnimeDocuments | None, anime_ids: list[int]
) -> dict[int, dict[str, Any]]:
    return cache.get_many(db, anime_ids) if cache else anime_db.find_by_ids(db, anime_ids)


def get_similar_anime(
    user_id: str | ObjectId,
    anime_id: int,
    n: int,
    *,
    db: Database,
    index: ContentIndex | None,
    registry: Any = None,
    cache: AnimeDocuments | None = None,
) -> dict[str, Any]:
    """``{anime_id, method, similar_anime: [{anime_id, similarity_score, anime}]}``, best first."""
    user = require_user(user_id, db=db)["_id"]
    if not _documents(db, cache, [anime_id]):
        raise NotFound(f"anime {anime_id} not found")
    exclude = read_user_state(db, user).hidden | {anime_id}
    fetch = min(n + len(exclude), MAX_FETCH)
    model = _cf_model(registry)
    content_hits = _content(index, anime_id, fetch)
    if model is None and content_hits is None:
        raise ServiceUnavailable(
            "similar anime needs the search index or a trained item-based model; "
            "build the index with `python -m scripts.build_faiss_index`"
        )
    cf = {int(a): float(s) for a, s in model.neighbours(anime_id, fetch)} if model else {}
    content = dict(content_hits or [])
    exact: dict[int, float] = {}
    if cf and content and index is not None:
        exact = index.current().similarity(anime_id, set(cf) - set(content))
    scores, method = _blend(cf, content, exact)
    ranked = sorted((c for c in scores if c not in exclude), key=lambda c: -scores[c])
    documents = _documents(db, cache, ranked[: n * 2])
    similar = [
        {"anime_id": c, "similarity_score": round(scores[c], 4), "anime": to_public(documents[c])}
        for c in ranked
        if c in documents
    ][:n]
    return {"anime_id": anime_id, "method": method, "similar_anime": similar}
