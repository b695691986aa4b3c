"""Use cases of search: keyword search on names, semantic search on descriptions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from pymongo.database import Database

from app.db import anime as anime_db
from app.errors import ServiceUnavailable
from app.services.anime_service import has_genres, to_public
from app.services.semantic_search_service import NOT_BUILT
from app.services.ttl_cache import TtlCache
from ml.exceptions import IndexNotBuiltError

KEYWORD = "keyword"
SEMANTIC = "semantic"
NAME_CANDIDATES = 200
TEXT_CANDIDATES = 200
KEYWORD_CACHE_SIZE = 256

KeywordKey = tuple[str, tuple[str, ...], int]  # (query, genres, limit), both casefolded


class AnimeDocuments(Protocol):
    """The worker's anime cache (recommendation_service.AnimeCache), off the database."""

    def get_many(self, db: Database, anime_ids: Iterable[int]) -> dict[int, dict[str, Any]]: ...


class SearchIndex(Protocol):
    """What semantic search needs from the vector index (app.services.semantic_search_service)."""

    def search(self, query: str, k: int, genres: Sequence[str] = ()) -> list[tuple[int, float]]: ...


def keyword_search(
    query: str, limit: int, genres: Sequence[str] = (), *, db: Database
) -> list[dict[str, Any]]:
    """Anime whose name matches ``query``, most relevant first, without duplicates.

    Ranking: the text index's matches by score; then names containing ``query`` (which catches
    partial words such as "narut"): those starting with it, then those with a word starting with
    it, then the rest, each by members. Where the database has no ``$text`` (mongomock), only the
    name matches answer. Genres filter the ``TEXT_CANDIDATES`` best text matches here rather than
    in the ``$text`` query, which the embedded server would then answer by a full scan (2.4 s
    instead of 15 ms on the sample). The name matches are one query for the ``NAME_CANDIDATES``
    most popular, ranked here: one scan of the names (tens of ms on the embedded server) instead
    of one per tier.
    """
    text_matches = anime_db.search_text(db, query, max(TEXT_CANDIDATES, limit)) or []
    found = [doc for doc in text_matches if has_genres(doc, genres)][:limit]
    if len(found) < limit:
        seen = [doc["anime_id"] for doc in found]
        candidates = anime_db.find_by_name_containing(
            db,
            query,
            anime_db.genre_filter(genres),
            exclude_ids=seen,
            limit=max(NAME_CANDIDATES, limit),
        )
        found.extend(rank_name_matches(query, candidates)[: limit - len(found)])
    return [to_public(doc) for doc in found]


def rank_name_matches(query: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names starting with ``query`` first, then a word starting with it, then the rest (stable)."""
    word_start = re.compile(rf"\b{re.escape(query)}", re.IGNORECASE)
    needle = query.casefold()

    def tier(document: dict[str, Any]) -> int:
        name = document.get("name") or ""
        if name.casefold().startswith(needle):
            return 0
        return 1 if word_start.search(name) else 2

    return sorted(documents, key=tier)


def semantic_search(
    query: str,
    limit: int,
    genre: Sequence[str] = (),
    *,
    db: Database,
    index: SearchIndex | None,
    cache: AnimeDocuments | None = None,
) -> list[dict[str, Any]]:
    """Anime closest in meaning to ``query``, each with its cosine ``similarity_score``.

    The index ranks (dense passages fused with BM25, see ml.services.faiss_service) and applies
    the genre filter itself, so a filtered search still returns ``limit`` anime when there are.
    """
    if index is None:
        raise ServiceUnavailable(NOT_BUILT)
    try:
        hits = index.search(query, limit, genre)
    except IndexNotBuiltError as error:
        raise ServiceUnavailable(NOT_BUILT) from error
    ids = [anime_id for anime_id, _ in hits]
    documents = cache.get_many(db, ids) if cache else anime_db.find_by_ids(db, ids)
    return [
        {**to_public(documents[anime_id]), "similarity_score": round(float(score), 4)}
        for anime_id, score in hits
        if anime_id in documents
    ]


def search_anime(
    query: str,
    *,
    search_type: str,
    limit: int,
    genres: Sequence[str] = (),
    db: Database,
    index: SearchIndex | None,
    cache: AnimeDocuments | None = None,
    keyword_results: TtlCache[KeywordKey, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """``{results, search_type}`` for a keyword or a semantic search.

    Keyword results depend on the catalogue alone: ``keyword_results`` keeps them per query
    (any case), genres and limit. A partial word costs a scan of every name otherwise (tens of ms
    on the embedded server).
    """
    if search_type == SEMANTIC:
        results = semantic_search(query, limit, genres, db=db, index=index, cache=cache)
    elif keyword_results is None:
        results = keyword_search(query, limit, genres, db=db)
    else:
        key = (query.casefold(), tuple(sorted({genre.casefold() for genre in genres})), limit)
        results = keyword_results.get(key, lambda: keyword_search(query, limit, genres, db=db))
    return {"results": results, "search_type": search_type}
