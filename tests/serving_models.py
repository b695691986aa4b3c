"""Tiny trained models saved as a real run (manifest + versions/), for the serving tests."""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any

import pandas as pd
from bson import ObjectId
from pymongo.database import Database

from ml.models import HybridWeightedCF, ItemBasedCF, NeuralCF, UserBasedCF
from ml.training.persistence import save_run

N_USERS, N_ANIME, PER_USER = 30, 24, 10


def tiny_ratings(seed: int = 7) -> tuple[list[ObjectId], pd.DataFrame]:
    """30 users x 10 ratings of 24 anime (ids 1-24), with a taste structure worth learning."""
    rng = random.Random(seed)
    users = [ObjectId() for _ in range(N_USERS)]
    rows = []
    for position, user in enumerate(users):
        for anime_id in rng.sample(range(1, N_ANIME + 1), PER_USER):
            liked = (anime_id + position) % 3 == 0
            rows.append((str(user), anime_id, float(9 if liked else 4 + anime_id % 3)))
    return users, pd.DataFrame(rows, columns=["user_id", "anime_id", "rating"])


def fit_models(ratings: pd.DataFrame) -> dict[str, Any]:
    user_based = UserBasedCF(k=5, min_support=1).fit(ratings)
    item_based = ItemBasedCF(k=5).fit(ratings)
    ncf = NeuralCF(embedding_dim=4, hidden_layers=[8], epochs=2, batch_size=64).fit(ratings)
    hybrid = HybridWeightedCF(
        user_based_model=user_based, item_based_model=item_based, ncf_model=ncf, refit=False,
        fit_weights=False, tune_ranking=False,
    ).fit(ratings)  # fmt: skip
    return {"user_based": user_based, "item_based": item_based, "ncf": ncf, "hybrid": hybrid}


def save_models(models: dict[str, Any], models_dir: Path, version: str) -> str:
    """Publish ``models`` as ``version`` (manifest replaced atomically, like a training run)."""
    return save_run(
        models,
        models_dir,
        metrics={name: {"rmse": 1.0} for name in models},
        data_summary={"n_ratings": 0},
        params={},
        version=version,
    )


def insert_dataset(db: Database, users: list[ObjectId], ratings: pd.DataFrame) -> None:
    """The users, their ratings and the 24 anime, as the app stores them."""
    db.users.insert_many([{"_id": user, "username": f"u{i}"} for i, user in enumerate(users)])
    db.anime.insert_many(
        [
            {"anime_id": a, "name": f"Anime {a}", "genre": "Action, Drama" if a % 2 else "Comedy",
             "type": "TV", "episodes": 12, "rating": 6.0 + (a % 7) / 2, "members": 5000 * a}
            for a in range(1, N_ANIME + 1)
        ]
    )  # fmt: skip
    db.ratings.insert_many(
        [
            {"user_id": ObjectId(u), "anime_id": int(a), "rating": int(r)}
            for u, a, r in ratings.itertuples(index=False, name=None)
        ]
    )


@functools.cache
def trained() -> tuple[list[ObjectId], pd.DataFrame, dict[str, Any]]:
    """Fitted once per test session (read-only afterwards)."""
    users, ratings = tiny_ratings()
    return users, ratings, fit_models(ratings)
