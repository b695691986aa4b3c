"""ml.training.sources: rating files (the Kaggle CSV, MovieLens u.data)."""

from __future__ import annotations

from pathlib import Path

from ml.training.sources import read_ratings_file
from tests.ml.rating_data import watched_and_rated


def test_read_ratings_file_drops_watched_only_rows(ratings_csv: Path) -> None:
    frame = read_ratings_file(ratings_csv)
    assert (frame["rating"] >= 1).all()
    assert len(frame) == (watched_and_rated()["rating"] > 0).sum()


def test_read_ratings_file_reads_movielens_udata(tmp_path: Path) -> None:
    path = tmp_path / "u.data"
    path.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    frame = read_ratings_file(path)
    assert frame.to_dict("list") == {
        "user_id": [196, 186],
        "anime_id": [242, 302],
        "rating": [3, 3],
    }
