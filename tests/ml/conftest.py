"""Fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.ml.rating_data import watched_and_rated


@pytest.fixture
def tiny_ratings() -> pd.DataFrame:
    """11 ratings of 3 anime by 4 users on a 1-5 scale, small enough to check by hand.

        user   anime 1  anime 2  anime 3   mean
        a         5        4        1      10/3
        b         4        5        2      11/3
        c         1        2        5       8/3
        d         2        -        4       3

    Anime 1 and 2 are liked together (a, b) and disliked together (c); anime 3 goes the other
    way. d has not rated anime 2.
    """
    rows = [
        ("a", 1, 5), ("a", 2, 4), ("a", 3, 1),
        ("b", 1, 4), ("b", 2, 5), ("b", 3, 2),
        ("c", 1, 1), ("c", 2, 2), ("c", 3, 5),
        ("d", 1, 2), ("d", 3, 4),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    """``watched_and_rated()`` as a rating.csv (user_id,anime_id,rating)."""
    path = tmp_path / "rating.csv"
    watched_and_rated().to_csv(path, index=False)
    return path
