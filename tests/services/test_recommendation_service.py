"""Recommendation service: who answers (model, fold-in, popularity), exclusions, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from bson import ObjectId
from pymongo.database import Database

from app.errors import BadRequest, NotFound
from app.services import rating_service
from app.services import recommendation_service as service
from app.services.model_registry import ModelRegistry
from app.services.training_service import precompute_top_n
from tests.serving_models import insert_dataset, save_models, trained


@pytest.fixture
def served(tmp_path: Path, db: Database) -> dict:
    users, ratings, models = trained()
    insert_dataset(db, users, ratings)
    save_models(models, tmp_path, "v1")
    registry = ModelRegistry(tmp_path, background=False)
    return {"users": users, "ratings": ratings, "models": models, "registry": registry,
            "dir": tmp_path, "cache": service.AnimeCache(60)}  # fmt: skip


def recommend(served: dict, user, model: str = "hybrid", n: int = 5, db=None) -> dict:
    return service.get_recommendations(
        str(user), model, n, db=db, registry=served["registry"], cache=served["cache"]
    )


def rated_by(db: Database, user: ObjectId) -> set[int]:
    return {doc["anime_id"] for doc in db.ratings.find({"user_id": user})}


@pytest.mark.parametrize("model", service.VALID_MODELS)
def test_known_user_is_answered_by_the_requested_model(served, db, model) -> None:
    user = served["users"][0]
    answer = recommend(served, user, model, db=db)
    assert answer["model_used"] == model and answer["model_version"] == "v1"
    ids = [row["anime_id"] for row in answer["recommendations"]]
    assert len(ids) == 5 and not set(ids) & rated_by(db, user)
    expected = served["models"][model].recommend(str(user), 5)
    assert ids == [anime_id for anime_id, _ in expected]
    assert all(
        row["anime"]["name"] == f"Anime {row['anime_id']}" for row in answer["recommendations"]
    )
    scores = [row["predicted_rating"] for row in answer["recommendations"]]
    assert scores == sorted(scores, reverse=True) and all(1 <= s <= 10 for s in scores)


@pytest.mark.parametrize("model", service.VALID_MODELS)
def test_precomputed_lists_answer_like_live_scoring(served, db, model) -> None:
    user = served["users"][3]
    live = recommend(served, user, model, n=7, db=db)
    precompute_top_n(served["dir"], "v1")
    served["registry"].refresh_if_due(force=True)
    assert model in served["registry"].current().top_n
    listed = recommend(served, user, model, n=7, db=db)
    assert [r["anime_id"] for r in listed["recommendations"]] == [
        r["anime_id"] for r in live["recommendations"]
    ]
    assert [r["predicted_rating"] for r in listed["recommendations"]] == pytest.approx(
        [r["predicted_rating"] for r in live["recommendations"]], abs=1e-3
    )


@pytest.mark.parametrize("precomputed", [False, True])
def test_anime_rated_since_training_are_left_out(served, db, precomputed) -> None:
    if precomputed:
        precompute_top_n(served["dir"], "v1")
    user = served["users"][1]
    first = recommend(served, user, "item_based", db=db)["recommendations"][0]["anime_id"]
    db.ratings.insert_one({"user_id": user, "anime_id": first, "rating": 3})
    again = [r["anime_id"] for r in recommend(served, user, "item_based", db=db)["recommendations"]]
    assert first not in again and len(again) == 5


def test_new_user_with_ratings_gets_item_based_fold_in(served, db) -> None:
    user = db.users.insert_one({"username": "newcomer"}).inserted_id
    db.ratings.insert_many(
        [{"user_id": user, "anime_id": a, "rating": r} for a, r in ((3, 9), (6, 9), (4, 2))]
    )
    answer = recommend(served, user, "ncf", db=db)
    assert answer["model_used"] == "item_based_foldin"
    ids = [row["anime_id"] for row in answer["recommendations"]]
    expected = served["models"]["item_based"].recommend_for_ratings({3: 9.0, 6: 9.0, 4: 2.0}, 5)
    assert ids == [anime_id for anime_id, _ in expected]
    assert not set(ids) & {3, 6, 4}


def test_new_user_without_ratings_gets_popular_well_rated_anime(served, db) -> None:
    user = db.users.insert_one({"username": "blank"}).inserted_id
    answer = recommend(served, user, db=db)
    assert answer["model_used"] == "popularity"
    rows = answer["recommendations"]
    assert all(row["anime"]["members"] >= service.POPULAR_MIN_MEMBERS for row in rows)
    ratings = [row["predicted_rating"] for row in rows]
    assert ratings == sorted(ratings, reverse=True) and len(rows) == 5


def test_without_trained_models_known_users_get_popularity(tmp_path, db) -> None:
    users, ratings, _ = trained()
    insert_dataset(db, users, ratings)
    registry = ModelRegistry(tmp_path / "none", background=False)
    answer = service.get_recommendations(
        str(users[0]), "hybrid", 5, db=db, registry=registry, cache=service.AnimeCache(60)
    )
    assert answer["model_used"] == "popularity" and answer["model_version"] is None
    assert not {r["anime_id"] for r in answer["recommendations"]} & rated_by(db, users[0])


def test_unknown_user_is_not_found(served, db) -> None:
    with pytest.raises(NotFound):
        recommend(served, str(ObjectId()), db=db)


@pytest.mark.parametrize("user_id", ["not-an-id", ""])
def test_malformed_user_id_is_bad_request(served, db, user_id) -> None:
    with pytest.raises(BadRequest, match="malformed user id"):
        recommend(served, user_id, db=db)


def test_unknown_model_lists_the_valid_names(served, db) -> None:
    with pytest.raises(BadRequest, match="user_based, item_based, ncf, hybrid"):
        recommend(served, served["users"][0], "svd", db=db)


def test_predictions_for_known_new_and_blank_users(served, db) -> None:
    registry, cache = served["registry"], served["cache"]
    known = served["users"][0]
    one = service.predict_rating(str(known), 5, "ncf", db=db, registry=registry, cache=cache)
    assert one["model_used"] == "ncf"
    expected = served["models"]["ncf"].predict(str(known), 5)
    assert one["predicted_rating"] == pytest.approx(expected, abs=1e-4)
    new = db.users.insert_one({"username": "n"}).inserted_id
    db.ratings.insert_one({"user_id": new, "anime_id": 3, "rating": 9})
    batch = service.batch_predict(str(new), [1, 2], "hybrid", db=db, registry=registry, cache=cache)
    assert batch["model_used"] == "item_based_foldin" and len(batch["predictions"]) == 2
    blank = db.users.insert_one({"username": "b"}).inserted_id
    pop = service.batch_predict(str(blank), [2, 999], db=db, registry=registry, cache=cache)
    assert pop["model_used"] == "popularity"
    assert [p["predicted_rating"] for p in pop["predictions"]] == [7.0, None]


def snapshot_lists(served: dict, as_of: datetime, extra: pd.DataFrame | None = None) -> None:
    """Lists that leave out the snapshot's ratings (plus ``extra`` rows), published as of as_of."""
    ratings = served["ratings"] if extra is None else pd.concat([served["ratings"], extra])
    precompute_top_n(served["dir"], "v1", ratings=ratings, ratings_as_of=as_of)
    served["registry"].refresh_if_due(force=True)


def stamp(db: Database, at: datetime | None) -> None:
    change = {"$set": {"ratings_changed_at": at}} if at else {"$unset": {"ratings_changed_at": ""}}
    db.users.update_many({}, change)


@pytest.fixture
def rating_reads(monkeypatch) -> list[ObjectId]:
    """The users whose ratings the service read."""
    reads: list[ObjectId] = []
    original = service.ratings_db.rating_map_for_user

    def spy(db: Database, user_id: ObjectId) -> dict[int, float]:
        reads.append(user_id)
        return original(db, user_id)

    monkeypatch.setattr(service.ratings_db, "rating_map_for_user", spy)
    return reads


@pytest.mark.parametrize("model", service.VALID_MODELS)
def test_user_unchanged_since_the_snapshot_is_answered_without_reading_ratings(
    served, db, model, rating_reads
) -> None:
    now = datetime.now(UTC)
    stamp(db, now - timedelta(hours=2))
    snapshot_lists(served, now - timedelta(hours=1))
    user = served["users"][4]
    answer = recommend(served, user, model, n=6, db=db)
    assert rating_reads == [] and answer["model_used"] == model
    ids = [row["anime_id"] for row in answer["recommendations"]]
    assert ids == [anime_id for anime_id, _ in served["models"][model].recommend(str(user), 6)]
    assert not set(ids) & rated_by(db, user)


def test_snapshot_lists_leave_out_ratings_the_model_was_not_fitted_on(served, db) -> None:
    user = served["users"][2]
    first = recommend(served, user, "item_based", db=db)["recommendations"][0]["anime_id"]
    extra = pd.DataFrame([(str(user), first, 8.0)], columns=["user_id", "anime_id", "rating"])
    db.ratings.insert_one({"user_id": user, "anime_id": first, "rating": 8})
    stamp(db, datetime.now(UTC) - timedelta(hours=2))
    snapshot_lists(served, datetime.now(UTC) - timedelta(hours=1), extra)
    ids = [r["anime_id"] for r in recommend(served, user, "item_based", db=db)["recommendations"]]
    assert first not in ids and len(ids) == 5


def test_a_rating_since_the_snapshot_is_read_and_left_out(served, db, rating_reads) -> None:
    stamp(db, datetime.now(UTC) - timedelta(hours=2))
    snapshot_lists(served, datetime.now(UTC) - timedelta(hours=1))
    user = served["users"][1]
    first = recommend(served, user, "hybrid", db=db)["recommendations"][0]["anime_id"]
    assert rating_reads == []
    rating_service.rate_anime(user, first, 3, db=db)
    again = [r["anime_id"] for r in recommend(served, user, "hybrid", db=db)["recommendations"]]
    assert rating_reads == [user] and first not in again and len(again) == 5


@pytest.mark.parametrize("case", ["no stamp", "stamped at the snapshot", "lists without"])
def test_ratings_are_read_when_the_lists_cannot_be_trusted(served, db, rating_reads, case) -> None:
    as_of = datetime.now(UTC) - timedelta(hours=1)
    stamps = {"no stamp": None, "stamped at the snapshot": as_of}
    stamp(db, stamps.get(case, as_of - timedelta(hours=1)))
    if case == "lists without":
        precompute_top_n(served["dir"], "v1")
        served["registry"].refresh_if_due(force=True)
    else:
        snapshot_lists(served, as_of)
    user = served["users"][5]
    answer = recommend(served, user, "ncf", db=db)
    assert rating_reads == [user] and answer["model_used"] == "ncf"
