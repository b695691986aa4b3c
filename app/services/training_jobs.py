"""Admin training jobs, as the web workers see them: start one, report it, wait for it.

One job at a time, in its own process, its state in MongoDB. The web worker only takes the lock,
records the job and has the launcher (app.jobs.launcher) start ``python -m app.jobs.train_job
JOB_ID``; that process (app.jobs.runner) trains, writes progress and a heartbeat into the job
document and releases the lock. Any worker reports a job from its document; a job whose process
died (heartbeat older than ``stale_after`` seconds, or its pid gone on this host) is marked
failed and the lock freed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from app.db import training_jobs as jobs_db
from app.db.common import as_utc
from app.db.training_jobs import FAILED, FINISHED_STATUSES, QUEUED, SUCCESS
from app.errors import AppError, BadRequest, Conflict, NotFound, ServiceUnavailable
from app.services.user_lookup import parse_id
from ml.models import SERVED_MODELS

log = logging.getLogger(__name__)

PUBLIC_KEYS = (
    "status", "models", "test_size", "epochs", "progress", "step", "results", "version", "error",
    "created_at", "started_at", "finished_at", "heartbeat_at",
)  # fmt: skip
POLL_SECONDS = 0.5

Launcher = Callable[[str], int | None]


class TrainingFailed(AppError):
    """A job the caller waited for ended in failure."""

    status = 500


def public(job: dict[str, Any]) -> dict[str, Any]:
    """The job as the API shows it."""
    return {"job_id": str(job["_id"]), **{key: job.get(key) for key in PUBLIC_KEYS}}


def _pid_gone(job: dict[str, Any]) -> bool:
    pid, host = job.get("pid"), job.get("host")
    if not pid or host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap_dead_jobs(*, db: Database, stale_after: float) -> list[str]:
    """Mark failed every active job whose process is gone or silent; free the lock it held."""
    now = datetime.now(UTC)
    reaped: list[str] = []
    for job in jobs_db.find_active(db):
        last_sign = job.get("heartbeat_at") or job.get("created_at") or now
        silent = now - as_utc(last_sign) > timedelta(seconds=stale_after)
        if not (silent or _pid_gone(job)):
            continue
        reason = "the training process died" if not silent else "the training process went silent"
        fields = {"status": FAILED, "error": f"{reason} (no heartbeat since {last_sign})"}
        if jobs_db.finish_if_active(db, job["_id"], {**fields, "finished_at": now}):
            reaped.append(str(job["_id"]))
        jobs_db.release_lock(db, job["_id"])
    return reaped


def _check_models(models: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(models or SERVED_MODELS))
    unknown = [name for name in chosen if name not in SERVED_MODELS]
    if unknown:
        raise BadRequest(
            f"unknown model(s) {', '.join(unknown)}; valid models: {', '.join(SERVED_MODELS)}"
        )
    return chosen


def start_training(
    models: list[str] | None,
    test_size: float,
    *,
    epochs: int | None = None,
    db: Database,
    launcher: Launcher,
    stale_after: float,
    requested_by: ObjectId | None = None,
) -> dict[str, Any]:
    """Queue a job and start its process; Conflict while another job holds the lock."""
    chosen = _check_models(models)
    reap_dead_jobs(db=db, stale_after=stale_after)
    job_id, now = ObjectId(), datetime.now(UTC)
    if not jobs_db.acquire_lock(db, job_id, now):
        holder = jobs_db.lock_holder(db)
        raise Conflict(
            "a training job is already running", details={"job_id": str(holder) if holder else None}
        )
    job = {
        "_id": job_id,
        "status": QUEUED,
        "models": chosen,
        "test_size": test_size,
        "epochs": epochs,
        "progress": 0.0,
        "step": "queued",
        "results": None,
        "version": None,
        "error": None,
        "requested_by": requested_by,
        "created_at": now,
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": now,
    }
    jobs_db.insert(db, job)
    try:
        pid = launcher(str(job_id))
    except Exception as error:
        log.exception("could not start training job %s", job_id)
        fields = {"status": FAILED, "error": f"could not start: {error}", "finished_at": now}
        jobs_db.finish_if_active(db, job_id, fields)
        jobs_db.release_lock(db, job_id)
        raise ServiceUnavailable("could not start the training process") from error
    jobs_db.update(db, job_id, {"pid": pid, "host": socket.gethostname()})
    return public(job)


def get_job(job_id: str, *, db: Database, stale_after: float) -> dict[str, Any]:
    """The job's current state (a job whose process died is reported failed).

    BadRequest for a malformed id, NotFound for an unknown one.
    """
    oid = parse_id(job_id, "training job")
    reap_dead_jobs(db=db, stale_after=stale_after)
    job = jobs_db.find_by_id(db, oid)
    if job is None:
        raise NotFound("training job not found")
    return public(job)


def wait_for_job(
    job_id: str, timeout: float, *, db: Database, stale_after: float
) -> dict[str, Any]:
    """Poll the job until it ends or ``timeout`` seconds pass; return its last state."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(job_id, db=db, stale_after=stale_after)
        if job["status"] in FINISHED_STATUSES or time.monotonic() >= deadline:
            return job
        time.sleep(POLL_SECONDS)


def waited_result(job: dict[str, Any]) -> dict[str, Any]:
    """A finished job as ``{status: "success", job_id, version, results}``; TrainingFailed when
    it failed."""
    if job["status"] == FAILED:
        raise TrainingFailed(f"training failed: {job['error']}", details={"job_id": job["job_id"]})
    return {
        "status": SUCCESS,
        "job_id": job["job_id"],
        "version": job["version"],
        "results": job["results"],
    }


def request_training(
    models: list[str] | None,
    test_size: float,
    *,
    wait: bool,
    timeout: float,
    db: Database,
    launcher: Launcher,
    stale_after: float,
    epochs: int | None = None,
    requested_by: ObjectId | None = None,
) -> dict[str, Any]:
    """Start a job and return it (status "queued").

    With ``wait``, block until it ends or ``timeout`` seconds pass: a job that succeeded answers
    ``{status: "success", job_id, version, results}``, one that failed raises TrainingFailed, one
    still running is returned as it stands.
    """
    job = start_training(
        models, test_size, epochs=epochs, db=db, launcher=launcher, stale_after=stale_after,
        requested_by=requested_by,
    )  # fmt: skip
    if not wait:
        return job
    job = wait_for_job(job["job_id"], timeout, db=db, stale_after=stale_after)
    return waited_result(job) if job["status"] in FINISHED_STATUSES else job
