"""The API fuzzed from its own OpenAPI document (schemathesis, in-process on the WSGI app).

Every operation, as an anonymous caller, a normal user and an admin, with valid and invalid
input (schemathesis' positive and negative modes), a bounded number of examples and a fixed seed
(``derandomize``). Checks: no 5xx; every status code is documented for its operation; every body
has the documented content type and conforms to the documented schema (errors to the envelope).

The app is the real one on mongomock, with a small catalogue, a search index built with a hashing
encoder (no model), and admin training stubbed at the job launcher: a job runs in-process at once
with a stand-in training function, so ``"wait": true`` answers without a real process.

The default run keeps to ``EXAMPLES`` per operation and caller; ``-m slow`` runs ``SLOW_EXAMPLES``.
"""

from __future__ import annotations

import atexit
import gzip
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mongomock
import pytest
import schemathesis
from bson import ObjectId
from flask import Flask
from flask_jwt_extended import create_access_token
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pymongo.database import Database
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from app.config import TestingConfig
from app.jobs.runner import run_job
from tests.conftest import SAMPLE_ANIME
from tests.ml.fake_encoder import HashingEncoder
from tests.routes.semantic_fixtures import CATALOGUE, build_index

EXAMPLES = 12
SLOW_EXAMPLES = 150
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CALLERS = ("anonymous", "user", "admin")


def _stand_in_training(**_kwargs: Any) -> dict[str, Any]:
    return {"version": "fuzz", "results": {"hybrid": {"rmse": 1.0, "mae": 0.8}}}


class InProcessLauncher:
    """Runs each job at once in this process with a stand-in training function."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, job_id: str) -> int:
        run_job(job_id, db=self.db, train=_stand_in_training, heartbeat_seconds=60)
        return os.getpid()


def _fuzz_app() -> tuple[Flask, dict[str, dict[str, str]]]:
    workdir = Path(tempfile.mkdtemp(prefix="anime-fuzz-"))
    atexit.register(shutil.rmtree, workdir, True)
    db = mongomock.MongoClient(tz_aware=True)["fuzz"]
    config = TestingConfig(
        {
            "RATELIMIT_ENABLED": "false",
            "FAISS_INDEX_PATH": str(workdir / "faiss" / "anime.index"),
            "MODELS_DIR": str(workdir / "models"),
        }
    )
    app = create_app(config, db=db)
    catalogue_ids = {doc["anime_id"] for doc in CATALOGUE}
    extra = [doc for doc in SAMPLE_ANIME if doc["anime_id"] not in catalogue_ids]
    db.anime.insert_many([dict(doc) for doc in CATALOGUE + extra])
    encoder = HashingEncoder()
    app.extensions["search_index"].encoder = encoder
    build_index(app, db, encoder)
    app.extensions["training_launcher"] = InProcessLauncher(db)

    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    now = datetime.now(UTC)
    for caller in ("user", "admin"):
        user_id = ObjectId()
        db.users.insert_one(
            {"_id": user_id, "username": f"fuzz_{caller}", "email": f"{caller}@example.com",
             "password_hash": None, "is_admin": caller == "admin", "created_at": now}
        )  # fmt: skip
        db.ratings.insert_one(
            {"user_id": user_id, "anime_id": 20, "rating": 8, "created_at": now, "updated_at": None}
        )
        with app.app_context():
            token = create_access_token(identity=str(user_id))
        headers[caller] = {"Authorization": f"Bearer {token}"}
    return app, headers


# The list import takes a gzip stream as its body: gzip of a small export, and bytes that are not
# gzip at all (the import's 400).
schemathesis.openapi.media_type(
    "application/gzip",
    st.sampled_from(
        [gzip.compress(b"<myanimelist><anime><series_animedb_id>20</series_animedb_id>"
                       b"<my_score>8</my_score><my_status>Completed</my_status></anime>"
                       b"</myanimelist>"), b"not gzip"]
    ),
)  # fmt: skip

APP, HEADERS = _fuzz_app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)

FUZZ_SETTINGS = {
    "derandomize": True,  # a fixed seed: the same examples on every run
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


@pytest.mark.parametrize("caller", CALLERS)
@schema.parametrize()
@settings(max_examples=EXAMPLES, **FUZZ_SETTINGS)
def test_every_operation_keeps_its_contract(case: schemathesis.Case, caller: str) -> None:
    case.call_and_validate(headers=HEADERS[caller], checks=CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("caller", CALLERS)
@schema.parametrize()
@settings(max_examples=SLOW_EXAMPLES, **FUZZ_SETTINGS)
def test_every_operation_keeps_its_contract_longer(case: schemathesis.Case, caller: str) -> None:
    case.call_and_validate(headers=HEADERS[caller], checks=CHECKS)
