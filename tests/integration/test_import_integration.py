"""The import on the embedded server over a real socket."""

from __future__ import annotations

import pytest

from app.db.common import count
from app.db.indexes import ensure_indexes
from tests.services.import_fixtures import run_import

pytestmark = pytest.mark.integration


def test_import_is_idempotent_on_the_real_server(real_db, dataset) -> None:
    ensure_indexes(real_db)
    first = run_import(real_db, dataset)
    ensure_indexes(real_db)
    second = run_import(real_db, dataset)
    assert first.ratings_inserted == 3 and second.ratings_inserted == 0
    assert first.watched_inserted == 3 and second.watched_inserted == 0
    assert count(real_db.ratings) == 3
    assert count(real_db.anime) == 4
    assert real_db.anime.find_one({"$text": {"$search": "bebop"}})["anime_id"] == 1


def test_changed_rating_is_updated_on_the_real_server(real_db, dataset) -> None:
    ensure_indexes(real_db)
    run_import(real_db, dataset)
    dataset["rating"].write_text(dataset["rating"].read_text().replace("1,1,10", "1,1,6"))
    summary = run_import(real_db, dataset)
    assert summary.ratings_updated == 1
    ratings_of_anime_1 = sorted(doc["rating"] for doc in real_db.ratings.find({"anime_id": 1}))
    assert ratings_of_anime_1 == [6]
