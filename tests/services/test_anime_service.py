"""anime_service on a mongomock database, without HTTP."""

from __future__ import annotations

import pytest
from bson import ObjectId

from app.errors import NotFound
from app.services import anime_service
from app.services.ttl_cache import TtlCache


def test_to_public_fills_unknown_fields_and_keeps_image_only_when_known() -> None:
    anime = anime_service.to_public({"_id": ObjectId(), "anime_id": 3, "name": "X", "extra": 1})
    assert anime == {
        "anime_id": 3,
        "name": "X",
        "genre": None,
        "type": None,
        "episodes": None,
        "rating": None,
        "members": None,
        "description": None,
    }
    with_image = anime_service.to_public({"anime_id": 3, "name": "X", "image_url": "u"})
    assert with_image["image_url"] == "u"


@pytest.mark.parametrize(
    ("genres", "expected"),
    [
        ([], True),
        (["shounen"], True),
        (["Shounen", "Action"], True),
        (["Shounen", "Romance"], False),
        (["Super"], False),
    ],
)
def test_has_genres(genres: list[str], expected: bool) -> None:
    document = {"genre": "Action, Shounen, Super Power"}
    assert anime_service.has_genres(document, genres) is expected


def test_has_genres_without_a_genre_field() -> None:
    assert anime_service.has_genres({}, ["Action"]) is False


def test_list_anime_orders_name_ascending_by_default(db, sample_anime) -> None:
    result = anime_service.list_anime(db=db, page=1, limit=2, sort="name")
    assert [anime["name"] for anime in result["anime"]] == [
        "Code Geass: Hangyaku no Lelouch",
        "Cowboy Bebop",
    ]
    assert (result["total"], result["page"], result["pages"]) == (5, 1, 3)


def test_list_anime_with_genres(db, sample_anime) -> None:
    result = anime_service.list_anime(db=db, page=1, limit=20, genres=["Drama", "adventure"])
    assert [anime["anime_id"] for anime in result["anime"]] == [199, 1, 21]


def test_get_anime_unknown_raises_not_found(db) -> None:
    with pytest.raises(NotFound):
        anime_service.get_anime(5, db=db)


def test_list_genres_skips_missing_genres(db) -> None:
    db.anime.insert_many(
        [
            {"anime_id": 1, "genre": "Drama, Action"},
            {"anime_id": 2, "genre": "Action"},
            {"anime_id": 3, "genre": None},
            {"anime_id": 4, "genre": ""},
        ]
    )
    assert anime_service.list_genres(db=db) == {
        "genres": [{"genre": "Action", "count": 2}, {"genre": "Drama", "count": 1}]
    }


def test_list_genres_uses_the_cache(db) -> None:
    cache: TtlCache = TtlCache(60)
    db.anime.insert_one({"anime_id": 1, "genre": "Drama"})
    first = anime_service.list_genres(db=db, cache=cache)
    db.anime.insert_one({"anime_id": 2, "genre": "Drama"})
    assert anime_service.list_genres(db=db, cache=cache) == first
    assert anime_service.list_genres(db=db)["genres"] == [{"genre": "Drama", "count": 2}]


@pytest.mark.parametrize(
    ("page", "limit", "expected_items", "expected_total", "counted"),
    [
        (1, 2, [0, 1], 5, True),
        (3, 2, [4], 5, False),
        (4, 2, [], 5, True),
        (1, 10, [0, 1, 2, 3, 4], 5, False),
    ],
)
def test_fetch_page_counts_only_when_the_page_cannot_tell(
    page, limit, expected_items, expected_total, counted
) -> None:
    from app.services.pagination import fetch_page

    items = list(range(5))
    calls: list[str] = []

    def count() -> int:
        calls.append("count")
        return len(items)

    found, total = fetch_page(lambda skip, size: items[skip : skip + size], count, page, limit)
    assert (found, total, bool(calls)) == (expected_items, expected_total, counted)


def test_a_genre_filters_total_is_counted_once_per_cache(db, sample_anime, monkeypatch) -> None:
    counted: list[dict] = []
    original = anime_service.anime_db.count_matching

    def counting(db_, query):
        counted.append(query)
        return original(db_, query)

    monkeypatch.setattr(anime_service.anime_db, "count_matching", counting)
    totals: TtlCache = TtlCache(60, maxsize=10)
    for genres in (
        ["Action"],
        ["action"],
        ["Action"],
        ["Shounen", "Action"],
        ["action", "shounen"],
    ):
        answer = anime_service.list_anime(db=db, page=1, limit=1, genres=genres, totals=totals)
        assert answer["total"] == (4 if len(genres) == 1 else 2)
    assert len(counted) == 2  # once per filter, whatever the case or order of its genres
