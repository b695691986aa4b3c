"""Admin endpoints: access control, training jobs (fake launcher), metrics and stats."""

from __future__ import annotations

import os
from typing import Any

import pytest
from bson import ObjectId

from app.jobs.runner import run_job
from app.schemas.admin import MAX_WAIT_SECONDS

PROTECTED = [
    ("post", "/api/admin/train"),
    ("get", f"/api/admin/train/{ObjectId()}"),
    ("get", "/api/admin/metrics"),
    ("get", "/api/admin/stats"),
]


class FakeLauncher:
    """Records the jobs it was asked to start; ``run`` makes it run them in-process at once."""

    def __init__(self, db, run=None) -> None:
        self.db, self.run, self.started = db, run, []

    def __call__(self, job_id: str) -> int:
        self.started.append(job_id)
        if self.run is not None:
            run_job(job_id, db=self.db, train=self.run, heartbeat_seconds=60)
        return os.getpid()  # alive: only a silent heartbeat makes such a job look dead


@pytest.fixture
def admin(make_user, token_for) -> dict[str, str]:
    return token_for(make_user("root", is_admin=True))


@pytest.fixture
def launcher(app, db) -> FakeLauncher:
    fake = FakeLauncher(db)
    app.extensions["training_launcher"] = fake
    return fake


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_admin_endpoints_need_a_token(client, method, path) -> None:
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_admin_endpoints_refuse_non_admins(client, make_user, token_for, method, path) -> None:
    headers = token_for(make_user("mallory"))
    response = getattr(client, method)(path, json={}, headers=headers)
    assert response.status_code == 403


def test_train_answers_202_and_queues_a_job(client, admin, launcher, db) -> None:
    response = client.post("/api/admin/train", json={"models": ["ncf"]}, headers=admin)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["models"] == ["ncf"]
    assert launcher.started == [body["job_id"]]
    status = client.get(f"/api/admin/train/{body['job_id']}", headers=admin)
    assert status.status_code == 200 and status.get_json()["step"] == "queued"


def test_default_body_trains_the_four_models(client, admin, launcher) -> None:
    body = client.post("/api/admin/train", json={}, headers=admin).get_json()
    assert body["models"] == ["user_based", "item_based", "ncf", "hybrid"]
    assert body["test_size"] == 0.2


def test_a_second_training_while_one_runs_is_409(client, admin, launcher) -> None:
    first = client.post("/api/admin/train", json={}, headers=admin).get_json()
    second = client.post("/api/admin/train", json={}, headers=admin)
    assert second.status_code == 409
    assert second.get_json()["details"]["job_id"] == first["job_id"]
    assert len(launcher.started) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"models": ["svd"]},
        {"models": []},
        {"models": "ncf"},
        {"test_size": 0.9},
        {"test_size": "x"},
        {"epochs": 0},
        {"wait": "soon"},
        {"timeout": 0},
    ],
)
def test_bad_training_requests_are_400_and_start_nothing(client, admin, launcher, db, body) -> None:
    response = client.post("/api/admin/train", json=body, headers=admin)
    assert response.status_code == 400
    assert "invalid input" in response.get_json()["error"]
    assert launcher.started == [] and db.training_jobs.count_documents({}) == 0


def test_unknown_model_message_lists_the_valid_names(client, admin, launcher) -> None:
    response = client.post("/api/admin/train", json={"models": ["svd"]}, headers=admin)
    assert "must be one of: user_based, item_based, ncf, hybrid" in response.get_json()["error"]


def test_wait_answers_status_and_results_when_the_job_succeeds(client, app, admin, db) -> None:
    def train(**kwargs: Any) -> dict[str, Any]:
        kwargs["progress"]("training ncf", 0.5)
        return {"version": "v9", "results": {"ncf": {"rmse": 1.1, "mae": 0.8}}}

    app.extensions["training_launcher"] = FakeLauncher(db, run=train)
    response = client.post(
        "/api/admin/train", json={"models": ["ncf"], "wait": True}, headers=admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "success" and body["version"] == "v9"
    assert body["results"] == {"ncf": {"rmse": 1.1, "mae": 0.8}}
    again = client.post("/api/admin/train", json={}, headers=admin)  # the lock was released
    assert again.status_code == 202


def test_wait_reports_a_failed_job(client, app, admin, db) -> None:
    def train(**_kwargs: Any) -> dict[str, Any]:
        raise ValueError("no ratings to learn from")

    app.extensions["training_launcher"] = FakeLauncher(db, run=train)
    response = client.post("/api/admin/train", json={"wait": True}, headers=admin)
    assert response.status_code == 500
    assert "no ratings to learn from" in response.get_json()["error"]
    job_id = response.get_json()["details"]["job_id"]
    job = client.get(f"/api/admin/train/{job_id}", headers=admin).get_json()
    assert job["status"] == "failed" and job["finished_at"]


def test_silent_job_is_marked_failed_and_frees_the_lock(client, app, admin, launcher) -> None:
    app.config["TRAINING_STALE_SECONDS"] = 0
    job_id = client.post("/api/admin/train", json={}, headers=admin).get_json()["job_id"]
    job = client.get(f"/api/admin/train/{job_id}", headers=admin).get_json()
    assert job["status"] == "failed" and "training process" in job["error"]
    assert client.post("/api/admin/train", json={}, headers=admin).status_code == 202


def test_unknown_job_is_404(client, admin) -> None:
    assert client.get(f"/api/admin/train/{ObjectId()}", headers=admin).status_code == 404


def test_metrics_and_stats_shapes(client, admin, sample_anime, db) -> None:
    metrics = client.get("/api/admin/metrics", headers=admin)
    assert metrics.status_code == 200
    body = metrics.get_json()
    assert set(body["metrics"]) == {"user_based", "item_based", "ncf", "hybrid"}
    assert body["serving"]["state"] in {"empty", "not_loaded"}
    stats = client.get("/api/admin/stats", headers=admin)
    assert stats.status_code == 200
    assert stats.get_json()["anime"] == 5 and stats.get_json()["users"] == 1


def test_health_reports_the_models(client) -> None:
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["models"]["state"] == "empty"


def test_without_a_shared_database_no_process_is_started(client, admin, db) -> None:
    response = client.post("/api/admin/train", json={}, headers=admin)
    assert response.status_code == 503
    job = db.training_jobs.find_one({})
    assert job["status"] == "failed" and "mongomock" in job["error"]
    assert client.post("/api/admin/train", json={}, headers=admin).status_code == 503  # lock freed


@pytest.mark.parametrize("path", ["/api/admin/train", "/api/admin/search-index/update"])
def test_admin_work_needs_a_json_body_as_documented(client, admin, launcher, db, path) -> None:
    response = client.post(path, headers=admin)
    assert response.status_code == 400
    assert "JSON body is required" in response.get_json()["error"]
    assert launcher.started == [] and db.training_jobs.count_documents({}) == 0
    document = client.get("/api/openapi.json").get_json()
    assert document["paths"][path]["post"]["requestBody"]["required"] is True


def test_wait_longer_than_the_cap_is_refused_before_anything_starts(client, admin, launcher, db):
    response = client.post("/api/admin/train", json={"wait": True, "timeout": 80}, headers=admin)
    assert response.status_code == 400
    assert "timeout" in response.get_json()["error"]
    assert launcher.started == [] and db.training_jobs.count_documents({}) == 0
    document = client.get("/api/openapi.json").get_json()
    timeout = document["components"]["schemas"]["TrainRequest"]["properties"]["timeout"]
    assert timeout["maximum"] == MAX_WAIT_SECONDS


def test_wait_for_a_job_still_running_answers_202_with_the_job(client, admin, launcher) -> None:
    response = client.post("/api/admin/train", json={"wait": True, "timeout": 1}, headers=admin)
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
