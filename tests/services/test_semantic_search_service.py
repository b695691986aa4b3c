"""The per-worker SearchIndex (lazy load, reload on change) and update_search_index."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app.errors import Conflict, ServiceUnavailable
from app.services.semantic_search_service import SearchIndex, update_search_index
from ml.exceptions import IndexNotBuiltError
from ml.services.faiss_service import FAISSService
from tests.ml.fake_encoder import HashingEncoder
from tests.routes.semantic_fixtures import CATALOGUE


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    return tmp_path / "faiss" / "anime.index"


def build(index_path: Path, rows: list[dict]) -> None:
    service = FAISSService(index_path, "fake", encoder=HashingEncoder())
    service.build_index(pd.DataFrame(rows))
    service.save()


def test_not_built_then_loaded_lazily(index_path: Path) -> None:
    index = SearchIndex(index_path, "fake", encoder=HashingEncoder())
    assert not index.is_built
    with pytest.raises(IndexNotBuiltError):
        index.search("pirates", 3)
    build(index_path, CATALOGUE)
    assert index.is_built
    assert index.search("pirate crew treasure", 1)[0][0] == 21


def test_a_torn_rewrite_keeps_the_last_good_index(index_path: Path) -> None:
    build(index_path, CATALOGUE)
    index = SearchIndex(index_path, "fake", encoder=HashingEncoder())
    assert index.similar(30, 1)[0][0] == 1575
    meta = FAISSService.meta_path(index_path)
    meta.write_text(meta.read_text().replace('"ntotal": 6', '"ntotal": 7'))
    assert index.similar(30, 1)[0][0] == 1575


def test_update_refuses_more_than_the_limit(db, index_path: Path) -> None:
    build(index_path, CATALOGUE[:2])
    db.anime.insert_many([dict(doc) for doc in CATALOGUE])
    index = SearchIndex(index_path, "fake", encoder=HashingEncoder())
    with pytest.raises(Conflict, match="build_faiss_index --update"):
        update_search_index(db=db, index=index, limit=3)
    result = update_search_index(db=db, index=index, anime_ids=[30, 199], limit=3)
    assert result == {"updated": 2, "anime_ids": [30, 199], "indexed": 4}


def test_update_without_an_index_is_unavailable(db, index_path: Path) -> None:
    with pytest.raises(ServiceUnavailable):
        update_search_index(db=db, index=SearchIndex(index_path, "fake"))
    with pytest.raises(ServiceUnavailable):
        update_search_index(db=db, index=None)
