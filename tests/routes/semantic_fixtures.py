"""Fixtures (a plugin of tests/conftest.py): a small catalogue with synopses and its index."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from flask import Flask
from pymongo.database import Database

from app.db import anime as anime_db
from ml.services.faiss_service import FAISSService
from tests.ml.fake_encoder import HashingEncoder

CATALOGUE: list[dict[str, Any]] = [
    {
        "anime_id": 21,
        "name": "One Piece",
        "genre": "Action, Adventure, Comedy",
        "type": "TV",
        "members": 504862,
        "description": "A pirate crew sails the seas hunting a legendary treasure.",
    },
    {
        "anime_id": 20,
        "name": "Naruto",
        "genre": "Action, Martial Arts, Shounen",
        "type": "TV",
        "members": 683297,
        "description": "A young ninja wants to become the leader of his village.",
    },
    {
        "anime_id": 1575,
        "name": "Code Geass",
        "genre": "Action, Mecha, Military",
        "type": "TV",
        "members": 715151,
        "description": "A prince pilots giant robots against the empire.",
    },
    {
        "anime_id": 30,
        "name": "Neon Genesis Evangelion",
        "genre": "Action, Mecha",
        "type": "TV",
        "members": 461946,
        "description": "Teenagers pilot giant robots against angels.",
    },
    {
        "anime_id": 199,
        "name": "Sen to Chihiro",
        "genre": "Adventure, Supernatural",
        "type": "Movie",
        "members": 466254,
        "description": "A girl works in a bathhouse for spirits to save her parents.",
    },
    {
        "anime_id": 523,
        "name": "Tonari no Totoro",
        "genre": "Adventure, Supernatural",
        "type": "Movie",
        "members": 271484,
        "description": "Two sisters meet a forest spirit in the countryside.",
    },
]


@pytest.fixture
def semantic_catalogue(db: Database) -> list[dict[str, Any]]:
    db.anime.insert_many([dict(doc) for doc in CATALOGUE])
    return CATALOGUE


@pytest.fixture
def search_encoder(app: Flask) -> HashingEncoder:
    """The app's search index encodes queries with the hashing encoder."""
    encoder = HashingEncoder()
    app.extensions["search_index"].encoder = encoder
    return encoder


def build_index(app: Flask, db: Database, encoder: HashingEncoder) -> FAISSService:
    """Build the index from the database at the app's FAISS_INDEX_PATH, as the script does."""
    frame = pd.DataFrame(list(anime_db.iter_for_index(db)))
    service = FAISSService(app.config["FAISS_INDEX_PATH"], "fake", encoder=encoder)
    service.build_index(frame)
    service.save()
    return service


@pytest.fixture
def semantic_index(
    app: Flask, db: Database, semantic_catalogue: list, search_encoder: HashingEncoder
) -> FAISSService:
    return build_index(app, db, search_encoder)
