"""ml.training.sources: rating files (the Kaggle CSV, MovieLens u.data)."""

from __future__ import annotations

from pathlib import Path

from ml.training.sources import read_ratings_file
from tests.ml.rating_data import watched_and_rated


def test_read_ratings_file_keeps_watched_rows_as_interactions(ratings_csv: Path) -> None:
    data = read_ratings_file(ratings_csv)
    frame, expected = data.ratings, watched_and_rated()
    assert ((frame["rating"] >= 1) | (frame["rating"] == -1)).all()
    assert len(frame) == len(expected)
    assert (frame["rating"] == -1).sum() == (expected["rating"] == -1).sum() > 0
    assert data.excluded is None and data.read_at is None


def test_read_ratings_file_reads_movielens_udata(tmp_path: Path) -> None:
    path = tmp_path / "u.data"
    path.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    frame = read_ratings_file(path).ratings
    assert frame.to_dict("list") == {
        "user_id": [196, 186],
        "anime_id": [242, 302],
        "rating": [3, 3],
    }
