"""scripts/build_faiss_index.py on CSV files (no database), with the hashing encoder."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from ml.services.faiss_service import FAISSService
from scripts import build_faiss_index
from tests.ml.fake_encoder import HashingEncoder

ANIME_CSV = """anime_id,name,genre,type,episodes,rating,members
21,One Piece,"Action, Adventure",TV,,8.58,504862
20,Naruto,"Action, Shounen",TV,220,7.81,683297
199,Sen to Chihiro no Kamikakushi,"Adventure, Supernatural",Movie,1,8.93,466254
"""
SYNOPSES_CSV = """MAL_ID,Name,Score,Genders,sypnopsis
21,One Piece,8.5,Action,"A pirate crew hunts a legendary treasure."
20,Naruto,7.9,Action,"No synopsis information has been added to this title."
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setattr(build_faiss_index, "FAISSService", _fake_service)
    monkeypatch.setenv("FAISS_INDEX_PATH", str(tmp_path / "faiss" / "anime.index"))
    (tmp_path / "anime.csv").write_text(ANIME_CSV)
    (tmp_path / "synopses.csv").write_text(SYNOPSES_CSV)
    return {
        "anime": tmp_path / "anime.csv",
        "synopses": tmp_path / "synopses.csv",
        "index": tmp_path / "faiss" / "anime.index",
    }


def _fake_service(*args, **kwargs) -> FAISSService:
    return FAISSService(*args, encoder=HashingEncoder(), **kwargs)


def test_read_catalogue_joins_synopses_by_mal_id(files: dict[str, Path]) -> None:
    frame = build_faiss_index.read_catalogue_csv(files["anime"], files["synopses"])
    assert list(frame.columns) == build_faiss_index.CATALOGUE_COLUMNS
    descriptions = dict(zip(frame.anime_id, frame.description, strict=True))
    assert descriptions[21].startswith("A pirate crew")
    assert pd.isna(descriptions[199])


def test_builds_then_skips_then_updates(files: dict[str, Path], caplog) -> None:
    caplog.set_level(logging.INFO)
    argv = ["--anime-csv", str(files["anime"]), "--synopses", str(files["synopses"])]
    assert build_faiss_index.main(argv) == 0
    service = _fake_service(files["index"]).load()
    assert len(service) == 3
    assert service.search("pirate treasure", k=1)[0][0] == 21
    assert "3 in catalogue, 1 with a synopsis" in caplog.text
    assert build_faiss_index.main([*argv, "--if-missing"]) == 0
    assert "nothing to do" in caplog.text
    files["anime"].write_text(ANIME_CSV + '5,Space Dandy,"Comedy, Sci-Fi",TV,13,7.8,90000\n')
    assert build_faiss_index.main([*argv, "--update"]) == 0
    assert "updated 1 anime" in caplog.text
    assert 5 in _fake_service(files["index"]).load()
