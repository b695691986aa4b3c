"""search_service: keyword ranking (with and without $text) and the semantic dispatch."""

from __future__ import annotations

import pytest

from app.db import anime as anime_db
from app.errors import ServiceUnavailable
from app.services import search_service
from app.services.ttl_cache import TtlCache


@pytest.fixture
def catalogue(db, sample_anime):
    db.anime.insert_many(
        [
            {"anime_id": 1735, "name": "Naruto: Shippuuden", "genre": "Shounen", "members": 5},
            {
                "anime_id": 28755,
                "name": "Boruto: Naruto the Movie",
                "genre": "Action",
                "members": 9,
            },
        ]
    )
    return db


def ids(results) -> list[int]:
    return [anime["anime_id"] for anime in results]


def test_mongomock_has_no_text_search_so_patterns_answer(catalogue) -> None:
    assert anime_db.search_text(catalogue, "naruto", 10) is None
    assert ids(search_service.keyword_search("naruto", 10, db=catalogue)) == [20, 1735, 28755]


def test_text_matches_come_first_then_patterns_without_duplicates(catalogue, monkeypatch):
    def fake_text(db, text, limit):
        return [anime_db.find_by_id(db, 28755), anime_db.find_by_id(db, 20)]

    monkeypatch.setattr(anime_db, "search_text", fake_text)
    assert ids(search_service.keyword_search("naruto", 10, db=catalogue)) == [28755, 20, 1735]
    assert ids(search_service.keyword_search("naruto", 2, db=catalogue)) == [28755, 20]


def test_keyword_search_with_genres(catalogue) -> None:
    results = search_service.keyword_search("o", 10, ["shounen", "action"], db=catalogue)
    assert ids(results) == [21, 20]


class FakeIndex:
    def __init__(self, hits: list[tuple[int, float]]) -> None:
        self.hits = hits

    def search(self, query: str, k: int, genres=()) -> list[tuple[int, float]]:
        return self.hits[:k]


def test_semantic_without_index_is_unavailable(catalogue) -> None:
    with pytest.raises(ServiceUnavailable, match="semantic search index is not built"):
        search_service.semantic_search("ninja", 5, db=catalogue, index=None)


def test_search_anime_dispatches_on_type(catalogue) -> None:
    keyword = search_service.search_anime(
        "naruto", search_type="keyword", limit=1, db=catalogue, index=None
    )
    assert keyword == {"results": keyword["results"], "search_type": "keyword"}
    assert ids(keyword["results"]) == [20]
    semantic = search_service.search_anime(
        "x", search_type="semantic", limit=1, db=catalogue, index=FakeIndex([(199, 0.5)])
    )
    assert ids(semantic["results"]) == [199]
    assert semantic["search_type"] == "semantic"


def test_name_matches_rank_prefix_then_word_start_then_substring() -> None:
    documents = [
        {"anime_id": 1, "name": "Masterpieces of Art"},
        {"anime_id": 2, "name": "One Piece"},
        {"anime_id": 3, "name": "Piece"},
        {"anime_id": 4, "name": "piece: the movie"},
    ]
    ranked = search_service.rank_name_matches("PIECE", documents)
    assert [doc["anime_id"] for doc in ranked] == [3, 4, 2, 1]


def test_popular_substring_matches_do_not_crowd_out_prefix_matches(db) -> None:
    db.anime.insert_many(
        [
            {"anime_id": 1, "name": "Cardcaptor Sakura", "members": 900},
            {"anime_id": 2, "name": "Sakura Wars", "members": 10},
        ]
    )
    assert ids(search_service.keyword_search("sakura", 1, db=db)) == [2]


def test_genres_filter_the_text_matches(catalogue, monkeypatch) -> None:
    def fake_text(db, text, limit):
        return [anime_db.find_by_id(db, anime_id) for anime_id in (28755, 1735, 20)]

    monkeypatch.setattr(anime_db, "search_text", fake_text)
    assert ids(search_service.keyword_search("naruto", 10, ["shounen"], db=catalogue)) == [
        1735,
        20,
    ]


def test_keyword_results_are_kept_per_query_genres_and_limit(catalogue, monkeypatch) -> None:
    scans: list[str] = []
    original = anime_db.find_by_name_containing

    def counting(db, text, *args, **kwargs):
        scans.append(text)
        return original(db, text, *args, **kwargs)

    monkeypatch.setattr(anime_db, "find_by_name_containing", counting)
    results: TtlCache = TtlCache(60, maxsize=10)

    def search(query: str, genres: tuple[str, ...] = (), limit: int = 10) -> list[int]:
        answer = search_service.search_anime(
            query, search_type="keyword", limit=limit, genres=genres, db=catalogue, index=None,
            keyword_results=results,
        )  # fmt: skip
        return ids(answer["results"])

    assert search("narut") == search("NARUT") == [20, 1735, 28755]
    assert search("narut", ("shounen",)) == search("narut", ("Shounen",)) == [20, 1735]
    assert search("narut", limit=1) == [20]
    assert scans == ["narut", "narut", "narut"]  # one scan per query, genres and limit
