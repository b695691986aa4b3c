"""The small dataset the import tests write, shared by the unit and integration suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.import_service import (
    import_dataset,
    read_anime_csv,
    read_ratings_csv,
    read_synopses_csv,
)

ANIME_CSV = """anime_id,name,genre,type,episodes,rating,members
1,Cowboy Bebop,"Action, Adventure, Sci-Fi",TV,26,8.82,486824
5,Steins;Gate,"Sci-Fi, Thriller",TV,24,9.17,673572
7,Gintama&#039;,"Action, Comedy",TV,Unknown,9.16,151266
9,No Genre Yet,,,Unknown,,12
"""

RATING_CSV = """user_id,anime_id,rating
1,1,10
1,5,-1
1,7,8
1,7,9
2,1,-1
2,5,7
2,404,9
3,9,-1
3,1,0
"""

SYNOPSES_CSV = """MAL_ID,Name,Score,Genders,sypnopsis
1,Cowboy Bebop,8.78,"Action, Adventure",In the year 2071 a crew of bounty hunters roams space.
5,Steins;Gate,9.1,"Sci-Fi, Thriller",No synopsis information has been added to this title. Help!
"""


@pytest.fixture
def dataset(tmp_path: Path) -> dict[str, Path]:
    files = {"anime": ANIME_CSV, "rating": RATING_CSV, "synopses": SYNOPSES_CSV}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(content)
    return paths


def run_import(db, dataset: dict[str, Path]):
    return import_dataset(
        db,
        read_anime_csv(dataset["anime"]),
        read_ratings_csv(dataset["rating"]),
        synopses=read_synopses_csv(dataset["synopses"]),
    )
