"""Recommendation service: who answers (precomputed list, fold-in, popularity), from which
state, with which exclusions and reasons; errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from bson import ObjectId
from pymongo.database import Database

from app.errors import BadRequest, NotFound
from app.services import list_service, rating_service
from app.services import recommendation_service as service
from app.services.model_registry import ModelRegistry
from ml.training.top_n import write_top_n
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


def ids_of(answer: dict) -> list[int]:
    return [row["anime_id"] for row in answer["recommendations"]]


def rated_by(db: Database, user: ObjectId) -> dict[int, float]:
    return {doc["anime_id"]: float(doc["rating"]) for doc in db.ratings.find({"user_id": user})}


def publish_lists(served: dict, as_of: datetime | None, extra: pd.DataFrame | None = None) -> None:
    """Every model's lists, leaving out the snapshot (plus ``extra`` rows) as of ``as_of``."""
    snapshot = served["ratings"] if extra is None else pd.concat([served["ratings"], extra])
    write_top_n(served["dir"], "v1", served["models"], snapshot=snapshot, ratings_as_of=as_of)
    served["registry"].refresh_if_due(force=True)


def stamp(db: Database, at: datetime | None) -> None:
    change = {"$set": {"ratings_changed_at": at}} if at else {"$unset": {"ratings_changed_at": ""}}
    db.users.update_many({}, change)


@pytest.fixture
def state_reads(monkeypatch) -> list[ObjectId]:
    """The users whose ratings, watched entries and list the service read."""
    reads: list[ObjectId] = []
    original = service.read_user_state

    def spy(db: Database, user: ObjectId) -> service.UserState:
        reads.append(user)
        return original(db, user)

    monkeypatch.setattr(service, "read_user_state", spy)
    return reads


@pytest.fixture
def unchanged(served, db) -> datetime:
    """Everyone stamped before the lists' snapshot: their lists answer alone."""
    now = datetime.now(UTC)
    stamp(db, now - timedelta(hours=2))
    publish_lists(served, now - timedelta(hours=1))
    return now


@pytest.mark.parametrize("model", service.SERVED_MODELS)
def test_an_unchanged_training_user_is_answered_from_the_list_alone(
    served, db, unchanged, state_reads, model
) -> None:
    user = served["users"][4]
    answer = recommend(served, user, model, n=6, db=db)
    assert state_reads == [] and answer["model_used"] == model
    assert answer["model_version"] == "v1"
    expected = served["models"][model].recommend(str(user), 6)
    assert ids_of(answer) == [anime_id for anime_id, _ in expected]
    assert [row["predicted_rating"] for row in answer["recommendations"]] == pytest.approx(
        [rating for _, rating in expected], abs=1e-4
    )
    assert not set(ids_of(answer)) & set(rated_by(db, user))
    assert all(
        row["anime"]["name"] == f"Anime {row['anime_id']}" for row in answer["recommendations"]
    )


@pytest.mark.parametrize("model", service.SERVED_MODELS)
def test_a_new_rating_counts_at_once(served, db, unchanged, state_reads, model) -> None:
    """After a rating the answer is the model folded in from the current ratings."""
    user = served["users"][1]
    first = ids_of(recommend(served, user, model, db=db))[0]
    rating_service.rate_anime(user, first, 10, db=db)
    again = recommend(served, user, model, db=db)
    assert state_reads == [user] and again["model_used"] == model
    current = rated_by(db, user)
    expected = served["models"][model].recommend_for_ratings(current, 5, user_id=str(user))
    assert ids_of(again) == [anime_id for anime_id, _ in expected] and first not in ids_of(again)


@pytest.mark.parametrize("model", service.SERVED_MODELS)
def test_deleting_ratings_counts_at_once(served, db, unchanged, model) -> None:
    user = served["users"][2]
    for document in list(db.ratings.find({"user_id": user}))[:6]:
        rating_service.delete_rating(str(document["_id"]), user_id=user, is_admin=False, db=db)
    answer = recommend(served, user, model, db=db)
    expected = served["models"][model].recommend_for_ratings(
        rated_by(db, user), 5, user_id=str(user)
    )
    assert ids_of(answer) == [anime_id for anime_id, _ in expected]


@pytest.mark.parametrize("case", ["no stamp", "stamped at the snapshot", "lists without a time"])
def test_state_is_read_when_the_lists_cannot_be_trusted(served, db, state_reads, case) -> None:
    as_of = datetime.now(UTC) - timedelta(hours=1)
    stamps = {"no stamp": None, "stamped at the snapshot": as_of}
    stamp(db, stamps.get(case, as_of - timedelta(hours=1)))
    publish_lists(served, None if case == "lists without a time" else as_of)
    user = served["users"][5]
    answer = recommend(served, user, "ncf", db=db)
    assert state_reads == [user] and answer["model_used"] == "ncf"


def test_lists_leave_out_what_the_snapshot_held_beyond_training(served, db) -> None:
    user = served["users"][2]
    first = ids_of(recommend(served, user, "item_based", db=db))[0]
    extra = pd.DataFrame([(str(user), first, 8.0)], columns=["user_id", "anime_id", "rating"])
    db.ratings.insert_one({"user_id": user, "anime_id": first, "rating": 8})
    stamp(db, datetime.now(UTC) - timedelta(hours=2))
    publish_lists(served, datetime.now(UTC) - timedelta(hours=1), extra)
    ids = ids_of(recommend(served, user, "item_based", db=db))
    assert first not in ids and len(ids) == 5


@pytest.mark.parametrize("model", service.SERVED_MODELS)
def test_a_new_user_with_ratings_gets_the_requested_model_folded_in(served, db, model) -> None:
    user = db.users.insert_one({"username": "newcomer"}).inserted_id
    db.ratings.insert_many(
        [{"user_id": user, "anime_id": a, "rating": r} for a, r in ((3, 9), (6, 9), (4, 2))]
    )
    answer = recommend(served, user, model, db=db)
    assert answer["model_used"] == model
    expected = served["models"][model].recommend_for_ratings({3: 9.0, 6: 9.0, 4: 2.0}, 5)
    assert ids_of(answer) == [anime_id for anime_id, _ in expected]
    assert not set(ids_of(answer)) & {3, 6, 4}


@pytest.mark.parametrize("model", service.SERVED_MODELS)
def test_watched_and_listed_anime_are_never_recommended(served, db, unchanged, model) -> None:
    user = served["users"][3]
    shown = ids_of(recommend(served, user, model, n=8, db=db))
    db.watch_history.insert_one({"user_id": user, "anime_id": shown[0], "action": "watched"})
    list_service.set_status(user, shown[1], "not_interested", db=db)
    list_service.set_status(user, shown[2], "plan_to_watch", db=db)
    again = ids_of(recommend(served, user, model, n=8, db=db))
    assert not set(shown[:3]) & set(again) and len(again) == 8


def test_a_user_with_nothing_gets_popular_anime_without_their_list(served, db) -> None:
    user = db.users.insert_one({"username": "blank"}).inserted_id
    answer = recommend(served, user, db=db)
    assert answer["model_used"] == "popularity"
    rows = answer["recommendations"]
    assert all(row["anime"]["members"] >= service.POPULAR_MIN_MEMBERS for row in rows)
    assert all(row["because"] == [] for row in rows)
    list_service.set_status(user, rows[0]["anime_id"], "dropped", db=db)
    again = ids_of(recommend(served, user, db=db))
    assert rows[0]["anime_id"] not in again and len(again) == 5


def test_without_trained_models_users_get_popularity(tmp_path, db) -> None:
    users, ratings, _ = trained()
    insert_dataset(db, users, ratings)
    registry = ModelRegistry(tmp_path / "none", background=False)
    answer = service.get_recommendations(
        str(users[0]), "hybrid", 5, db=db, registry=registry, cache=service.AnimeCache(60)
    )
    assert answer["model_used"] == "popularity" and answer["model_version"] is None
    assert not set(ids_of(answer)) & set(rated_by(db, users[0]))


@pytest.mark.parametrize("precomputed", [False, True])
@pytest.mark.parametrize("model", service.SERVED_MODELS)
def test_because_names_the_users_own_titles(served, db, model, precomputed) -> None:
    if precomputed:
        stamp(db, datetime.now(UTC) - timedelta(hours=2))
        publish_lists(served, datetime.now(UTC) - timedelta(hours=1))
    user = served["users"][6]
    rows = recommend(served, user, model, n=8, db=db)["recommendations"]
    own = set(rated_by(db, user))
    reasons = [reason for row in rows for reason in row["because"]]
    assert all(len(row["because"]) <= 3 for row in rows)
    assert all(r["anime_id"] in own and r["name"] == f"Anime {r['anime_id']}" for r in reasons)
    if model in ("item_based", "hybrid"):  # item-item contributions
        assert reasons
    else:
        assert reasons == []


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


def test_predictions_for_unchanged_changed_new_and_blank_users(served, db, unchanged) -> None:
    registry, cache = served["registry"], served["cache"]
    known = served["users"][0]
    one = service.predict_rating(str(known), 5, "ncf", db=db, registry=registry, cache=cache)
    assert one["model_used"] == "ncf"
    expected = served["models"]["ncf"].predict(str(known), 5)
    assert one["predicted_rating"] == pytest.approx(expected, abs=1e-4)
    rating_service.rate_anime(known, 7, 10, db=db)
    changed = service.predict_rating(str(known), 5, "ncf", db=db, registry=registry, cache=cache)
    folded = served["models"]["ncf"].predict_for_ratings(
        rated_by(db, known), [5], user_id=str(known)
    )
    assert changed["predicted_rating"] == pytest.approx(float(folded[0]), abs=1e-4)
    new = db.users.insert_one({"username": "n"}).inserted_id
    db.ratings.insert_one({"user_id": new, "anime_id": 3, "rating": 9})
    batch = service.batch_predict(str(new), [1, 2], "hybrid", db=db, registry=registry, cache=cache)
    assert batch["model_used"] == "hybrid" and len(batch["predictions"]) == 2
    blank = db.users.insert_one({"username": "b"}).inserted_id
    pop = service.batch_predict(
        str(blank), [2, 999], "hybrid", db=db, registry=registry, cache=cache
    )
    assert pop["model_used"] == "hybrid"
    assert all(1 <= p["predicted_rating"] <= 10 for p in pop["predictions"])
