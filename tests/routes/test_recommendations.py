"""GET /api/recommendations/<user_id>: validation, status codes, shape, who answered."""

from __future__ import annotations

import pytest
from bson import ObjectId

from app.services.model_registry import ModelRegistry
from tests.serving_models import insert_dataset, save_models, trained


@pytest.fixture
def with_models(app, db, tmp_path):
    users, ratings, models = trained()
    insert_dataset(db, users, ratings)
    save_models(models, tmp_path, "v1")
    app.extensions["model_registry"] = ModelRegistry(tmp_path, background=False)
    return users


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("model=svd", "model: must be one of: user_based, item_based, ncf, hybrid"),
        ("model=", "model: must be one of"),
        ("n=0", "n: Must be greater than or equal to 1"),
        ("n=101", "less than or equal to 100"),
        ("n=ten", "n: Not a valid integer"),
    ],
)
def test_bad_arguments_are_400(client, make_user, query, message) -> None:
    user = make_user()
    response = client.get(f"/api/recommendations/{user['_id']}?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_unknown_user_is_404(client) -> None:
    user_id = str(ObjectId())
    response = client.get(f"/api/recommendations/{user_id}")
    assert response.status_code == 404
    assert response.get_json()["error"] == f"user {user_id} not found"


def test_user_without_ratings_gets_popular_anime(client, make_user, sample_anime) -> None:
    user = make_user()
    response = client.get(f"/api/recommendations/{user['_id']}?n=3")
    assert response.status_code == 200
    body = response.get_json()
    assert body["model_used"] == "popularity" and body["model_version"] is None
    assert [row["anime_id"] for row in body["recommendations"]] == [199, 1575, 1]
    assert body["recommendations"][0]["anime"]["name"] == "Sen to Chihiro no Kamikakushi"


@pytest.mark.parametrize("model", ["user_based", "item_based", "ncf", "hybrid"])
def test_known_user_gets_the_requested_model(client, with_models, model) -> None:
    response = client.get(f"/api/recommendations/{with_models[0]}?model={model}&n=4")
    assert response.status_code == 200
    body = response.get_json()
    assert body["model_used"] == model and body["model_version"] == "v1"
    assert len(body["recommendations"]) == 4
    row = body["recommendations"][0]
    assert set(row) == {"anime_id", "predicted_rating", "anime", "because"}
    assert row["anime"]["anime_id"] == row["anime_id"]
    assert all(set(reason) == {"anime_id", "name"} for reason in row["because"])


def test_default_model_is_hybrid_and_n_ten(client, with_models) -> None:
    body = client.get(f"/api/recommendations/{with_models[0]}").get_json()
    assert body["model_used"] == "hybrid"
    assert len(body["recommendations"]) == 10


def test_anime_details_come_from_one_query(client, app, with_models, monkeypatch) -> None:
    from app.db import anime as anime_db

    calls: list[int] = []
    original = anime_db.find_by_ids

    def counting(db, anime_ids):
        calls.append(len(list(anime_ids)))
        return original(db, anime_ids)

    monkeypatch.setattr(anime_db, "find_by_ids", counting)
    client.get(f"/api/recommendations/{with_models[0]}?n=10")
    assert len(calls) == 1
    client.get(f"/api/recommendations/{with_models[0]}?n=10")
    assert len(calls) == 1  # the worker's anime cache answers the second time


def test_openapi_documents_the_endpoint(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/recommendations/{user_id}"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"model", "n"}
