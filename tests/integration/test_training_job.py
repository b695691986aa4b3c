"""A real training job process against the embedded server: 202 -> poll -> success, 409, kill."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_jwt_extended import create_access_token
from pymongo import MongoClient

from app import create_app
from app.config import TestingConfig
from app.services import rating_service, recommendation_service
from tests.serving_models import insert_dataset, tiny_ratings

pytestmark = pytest.mark.integration
DEADLINE_SECONDS = 240


@pytest.fixture
def served(real_db, mongodb_uri, tmp_path: Path):
    client: MongoClient = MongoClient(mongodb_uri, tz_aware=True)
    app = create_app(
        TestingConfig(
            {
                "MONGODB_URI": mongodb_uri,
                "MONGODB_DB": real_db.name,
                "MODELS_DIR": str(tmp_path / "models"),
                "RATELIMIT_ENABLED": "false",
            }
        ),
        db=client[real_db.name],
    )
    users, ratings = tiny_ratings()
    insert_dataset(real_db, users, ratings)
    admin = real_db.users.insert_one({"username": "root", "is_admin": True}).inserted_id
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_access_token(identity=str(admin))}"}
    try:
        yield app.test_client(), headers, users
    finally:
        client.close()


def wait_until_finished(client, headers, job_id: str) -> dict:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job = client.get(f"/api/admin/train/{job_id}", headers=headers).get_json()
        if job["status"] in {"success", "failed"}:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {DEADLINE_SECONDS} s")


def rated_since_training_is_left_out(client, real_db, user, monkeypatch) -> None:
    """Unchanged since the snapshot: no rating read; after a new rating: read and left out."""
    document = real_db.users.find_one_and_delete({"_id": user})
    real_db.users.insert_one({**document, "ratings_changed_at": datetime.now(UTC) - timedelta(1)})
    reads = []
    original = recommendation_service.ratings_db.rating_map_for_user
    monkeypatch.setattr(
        recommendation_service.ratings_db,
        "rating_map_for_user",
        lambda db, user_id: reads.append(user_id) or original(db, user_id),
    )
    url = f"/api/recommendations/{user}?model=item_based&n=5"
    first = client.get(url).get_json()["recommendations"][0]["anime_id"]
    assert reads == []
    rating_service.rate_anime(user, first, 2, db=real_db)
    again = [row["anime_id"] for row in client.get(url).get_json()["recommendations"]]
    assert reads == [user] and first not in again and len(again) == 5


def test_job_runs_in_its_own_process_and_its_models_are_served(
    served, real_db, monkeypatch
) -> None:
    client, headers, users = served
    started = client.post("/api/admin/train", json={"models": ["item_based"]}, headers=headers)
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]
    assert started.get_json()["status"] == "queued"

    busy = client.post("/api/admin/train", json={"models": ["item_based"]}, headers=headers)
    assert busy.status_code == 409

    job = wait_until_finished(client, headers, job_id)
    assert job["status"] == "success", job["error"]
    assert job["progress"] == 1.0 and job["step"] == "done"
    assert job["results"]["item_based"]["rmse"] > 0
    assert job["results"]["item_based"]["training_time"] >= 0

    answer = client.get(f"/api/recommendations/{users[0]}?model=item_based&n=5").get_json()
    assert answer["model_used"] == "item_based" and answer["model_version"] == job["version"]
    assert len(answer["recommendations"]) == 5
    metrics = client.get("/api/admin/metrics", headers=headers).get_json()
    assert metrics["metrics"]["item_based"]["version"] == job["version"]
    assert metrics["serving"]["precomputed_top_n"] == ["item_based"]
    rated_since_training_is_left_out(client, real_db, users[1], monkeypatch)


def test_a_killed_job_is_marked_failed_and_frees_the_lock(served, real_db) -> None:
    client, headers, _ = served
    job_id = client.post("/api/admin/train", json={}, headers=headers).get_json()["job_id"]
    pid = real_db.training_jobs.find_one({"status": {"$in": ["queued", "running"]}})["pid"]
    os.kill(pid, signal.SIGKILL)
    job = wait_until_finished(client, headers, job_id)
    assert job["status"] == "failed" and "died" in job["error"]
    assert client.post("/api/admin/train", json={}, headers=headers).status_code == 202
