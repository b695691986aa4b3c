"""FAISSService with a hashing encoder: build, search, similar, filters, persistence, updates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.exceptions import IndexNotBuiltError
from ml.services.faiss_service import FAISSService, SearchSettings
from tests.ml.fake_encoder import HashingEncoder

CATALOGUE = [
    (
        21,
        "One Piece",
        "Action, Adventure, Comedy",
        "TV",
        504862,
        "Luffy and his pirate crew sail the seas hunting the legendary treasure One Piece.",
    ),
    (
        20,
        "Naruto",
        "Action, Martial Arts, Shounen",
        "TV",
        683297,
        "A young ninja wants to become the leader of his village.",
    ),
    (
        1575,
        "Code Geass",
        "Action, Mecha, Military",
        "TV",
        715151,
        "A prince gains a power to command anyone and pilots giant robots against the empire.",
    ),
    (
        30,
        "Neon Genesis Evangelion",
        "Action, Mecha, Psychological",
        "TV",
        461946,
        "Teenagers pilot giant robots called Evangelions against angels.",
    ),
    (
        199,
        "Sen to Chihiro no Kamikakushi",
        "Adventure, Drama, Supernatural",
        "Movie",
        466254,
        "A girl works in a bathhouse for spirits to save her parents.",
    ),
    (
        523,
        "Tonari no Totoro",
        "Adventure, Comedy, Supernatural",
        "Movie",
        271484,
        "Two sisters move to the countryside and meet a forest spirit.",
    ),
    (
        1535,
        "Death Note",
        "Mystery, Police, Psychological",
        "TV",
        1013917,
        "A student finds a notebook that kills anyone whose name is written in it.",
    ),
    (9999, "Kaizoku Special", "Adventure", "Special", 1000, None),
]


def catalogue(rows: list[tuple] = CATALOGUE) -> pd.DataFrame:
    columns = ["anime_id", "name", "genre", "type", "members", "description"]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def service(tmp_path: Path, encoder: HashingEncoder) -> FAISSService:
    service = FAISSService(tmp_path / "faiss" / "anime.index", "fake", encoder=encoder)
    service.build_index(catalogue())
    return service


def ids(results: list[tuple[int, float]]) -> list[int]:
    return [anime_id for anime_id, _ in results]


def test_search_ranks_the_described_anime_first(service: FAISSService) -> None:
    assert ids(service.search("pirate crew hunting a treasure", k=3))[0] == 21
    assert ids(service.search("notebook that kills", k=3))[0] == 1535


def test_search_scores_are_cosines(service: FAISSService) -> None:
    results = service.search("giant robots piloted by teenagers", k=5)
    assert len(results) == 5
    assert all(-1.0 <= score <= 1.0 + 1e-6 for _, score in results)
    assert set(ids(results)[:2]) == {30, 1575}


def test_dense_only_order_is_by_cosine(tmp_path: Path, encoder: HashingEncoder) -> None:
    settings = SearchSettings(lexical_weight=0.0, popularity_weight=0.0)
    service = FAISSService(tmp_path / "x.index", encoder=encoder, settings=settings)
    service.build_index(catalogue())
    scores = [score for _, score in service.search("spirits bathhouse girl", k=8)]
    assert scores == sorted(scores, reverse=True)


def test_genre_filter_keeps_only_that_genre(service: FAISSService) -> None:
    results = service.search("a girl and spirits", k=5, genres=["mecha"])
    assert set(ids(results)) == {30, 1575}
    assert ids(service.search("robots", k=5, genres=["Mecha", "military"])) == [1575]
    assert service.search("robots", k=5, genres=["Mecha", "Josei"]) == []


def test_similar_uses_stored_vectors_and_leaves_the_anime_out(
    service: FAISSService, encoder: HashingEncoder
) -> None:
    calls = encoder.calls
    results = service.similar(30, k=3)
    assert encoder.calls == calls
    assert 30 not in ids(results)
    assert ids(results)[0] == 1575
    assert len(results) == 3
    assert service.similar(123456, k=3) == []


def test_not_built_raises(tmp_path: Path, encoder: HashingEncoder) -> None:
    service = FAISSService(tmp_path / "none.index", encoder=encoder)
    with pytest.raises(IndexNotBuiltError):
        service.search("anything")
    with pytest.raises(IndexNotBuiltError):
        service.load()


def test_save_and_load_round_trip(service: FAISSService, encoder: HashingEncoder) -> None:
    path = service.save()
    meta = json.loads(FAISSService.meta_path(path).read_text())
    assert meta["anime_ids"] == [row[0] for row in CATALOGUE]
    assert len(meta["row_doc"]) == meta["ntotal"]
    loaded = FAISSService(path, encoder=encoder).load()
    query = "two sisters meet a forest spirit"
    assert loaded.search(query, k=4) == service.search(query, k=4)
    assert loaded.similar(21, k=3) == service.similar(21, k=3)


def test_load_refuses_a_torn_index(service: FAISSService, encoder: HashingEncoder) -> None:
    path = service.save()
    meta_path = FAISSService.meta_path(path)
    meta = json.loads(meta_path.read_text())
    meta["ntotal"] += 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexNotBuiltError):
        FAISSService(path, encoder=encoder).load()


def test_update_adds_and_changes_without_rebuilding(
    service: FAISSService, encoder: HashingEncoder
) -> None:
    records = catalogue().to_dict("records")
    records[1] = {**records[1], "description": "A cook opens a ramen restaurant in a harbour."}
    added = {
        "anime_id": 777,
        "name": "Space Dandy",
        "genre": "Comedy, Sci-Fi",
        "type": "TV",
        "members": 5000,
        "description": "An alien hunter travels the galaxy on a spaceship.",
    }
    changed = service.changed(records + [added])
    assert [record["anime_id"] for record in changed] == [20, 777]
    before = encoder.encoded
    assert service.update(changed) == 2
    assert encoder.encoded - before == 2
    assert ids(service.search("alien hunter galaxy spaceship", k=1)) == [777]
    assert ids(service.search("ramen restaurant harbour", k=1)) == [20]
    assert 20 not in ids(service.search("ninja village leader", k=2))
    assert service.changed(records + [added]) == []
    reloaded = FAISSService(service.save(), encoder=encoder).load()
    assert ids(reloaded.search("alien hunter galaxy spaceship", k=1)) == [777]


@pytest.mark.parametrize("index_type", ["hnsw", "ivf"])
def test_approximate_indexes_answer_too(
    tmp_path: Path, encoder: HashingEncoder, index_type: str
) -> None:
    settings = SearchSettings(index_type=index_type)
    service = FAISSService(tmp_path / "a.index", encoder=encoder, settings=settings)
    service.build_index(catalogue())
    assert ids(service.search("pirate crew treasure", k=2))[0] == 21
    assert ids(service.similar(30, k=1)) == [1575]
    reloaded = FAISSService(service.save(), encoder=encoder).load()
    assert reloaded.settings.index_type == index_type
    assert ids(reloaded.search("pirate crew treasure", k=2))[0] == 21
    assert ids(reloaded.similar(30, k=1)) == [1575]
    assert set(ids(reloaded.search("robots", k=3, genres=["Mecha"]))) == {30, 1575}


def test_works_without_synopses(tmp_path: Path, encoder: HashingEncoder) -> None:
    rows = [row[:5] + (None,) for row in CATALOGUE]
    service = FAISSService(tmp_path / "n.index", encoder=encoder)
    assert service.build_index(catalogue(rows)) == len(rows)
    assert service.index.ntotal == len(rows)
    assert ids(service.search("Death Note mystery police", k=1)) == [1535]


def test_passages_are_stored_per_long_synopsis(tmp_path: Path, encoder: HashingEncoder) -> None:
    long_text = " ".join(f"Sentence number {i} about pirates and the sea." for i in range(60))
    rows = [CATALOGUE[0][:5] + (long_text,)] + CATALOGUE[1:]
    service = FAISSService(tmp_path / "p.index", encoder=encoder)
    service.build_index(catalogue(rows))
    assert int((service.row_doc == 0).sum()) > 1
    assert len(service.search("pirates", k=8)) == len(rows)
    assert np.isclose(np.linalg.norm(service._doc_vector(0)), 1.0)
