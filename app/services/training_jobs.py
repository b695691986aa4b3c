"""Admin training jobs: one at a time, in their own process, their state in MongoDB.

The web worker only takes the lock, records the job and spawns ``python -m app.jobs.train_job
JOB_ID``; that process trains, writes progress and a heartbeat into the job document and releases
the lock. Any worker reports a job from its document; a job whose process died (heartbeat older
than ``stale_after`` seconds, or its pid gone on this host) is marked failed and the lock freed.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from app.db import training_jobs as jobs_db
from app.db.common import as_utc, to_object_id
from app.errors import AppError, BadRequest, Conflict, NotFound, ServiceUnavailable
from app.services.recommendation_service import VALID_MODELS
from app.services.user_lookup import parse_id

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCESS, FAILED = "queued", "running", "success", "failed"
FINISHED = (SUCCESS, FAILED)
PUBLIC_KEYS = (
    "status", "models", "test_size", "epochs", "progress", "step", "results", "version", "error",
    "created_at", "started_at", "finished_at", "heartbeat_at",
)  # fmt: skip
POLL_SECONDS = 0.5

Launcher = Callable[[str], int | None]


class TrainingFailed(AppError):
    """A job the caller waited for ended in failure."""

    status = 500


@dataclass(frozen=True)
class SubprocessLauncher:
    """Starts ``python -m app.jobs.train_job JOB_ID`` detached, with the database settings."""

    env: dict[str, str]
    log_dir: Path

    def __call__(self, job_id: str) -> int:
        if self.env.get("MONGODB_URI", "").startswith("mongomock://"):
            raise RuntimeError("a training process cannot reach an in-process mongomock database")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        project_root = Path(__file__).resolve().parents[2]
        with open(self.log_dir / f"{job_id}.log", "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.jobs.train_job", job_id],
                cwd=project_root,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Reap the child when it ends so it does not linger as a zombie of this worker.
        threading.Thread(target=process.wait, name=f"train-{job_id}", daemon=True).start()
        return process.pid


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
    chosen = list(dict.fromkeys(models or VALID_MODELS))
    unknown = [name for name in chosen if name not in VALID_MODELS]
    if unknown:
        raise BadRequest(
            f"unknown model(s) {', '.join(unknown)}; valid models: {', '.join(VALID_MODELS)}"
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
        if job["status"] in FINISHED or time.monotonic() >= deadline:
            return job
        time.sleep(POLL_SECONDS)


def waited_result(job: dict[str, Any]) -> dict[str, Any]:
    """The seed's synchronous answer for a finished job; TrainingFailed when it failed."""
    if job["status"] == FAILED:
        raise TrainingFailed(f"training failed: {job['error']}", details={"job_id": job["job_id"]})
    return {
        "status": SUCCESS,
        "job_id": job["job_id"],
        "version": job["version"],
        "results": job["results"],
    }


class _Reporter:
    """The job process's writer: progress (throttled) and a heartbeat every few seconds."""

    def __init__(self, db: Database, job_id: ObjectId, heartbeat_seconds: float) -> None:
        self.db, self.job_id = db, job_id
        self.heartbeat_seconds = heartbeat_seconds
        self._stop = threading.Event()
        self._last = (0.0, "")
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def __enter__(self) -> _Reporter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.heartbeat_seconds + 5)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            jobs_db.update(self.db, self.job_id, {"heartbeat_at": datetime.now(UTC)})

    def progress(self, step: str, fraction: float) -> None:
        now = time.monotonic()
        if step == self._last[1] and now - self._last[0] < 1.0:
            return
        self._last = (now, step)
        fields = {"step": step, "progress": round(fraction, 4), "heartbeat_at": datetime.now(UTC)}
        jobs_db.update(self.db, self.job_id, fields)


def run_job(
    job_id: str,
    *,
    db: Database,
    train: Callable[..., dict[str, Any]],
    heartbeat_seconds: float = 5.0,
) -> str:
    """Run a queued job in this process: ``train(names=, test_size=, epochs=, progress=, job_id=)``.

    Returns the final status; the lock is released whatever happens.
    """
    oid = to_object_id(job_id)
    job = jobs_db.find_by_id(db, oid) if oid is not None else None
    if job is None or job["status"] != QUEUED:
        log.error("training job %s is not queued; nothing to do", job_id)
        return FAILED
    now = datetime.now(UTC)
    jobs_db.update(
        db,
        job["_id"],
        {"status": RUNNING, "started_at": now, "heartbeat_at": now, "pid": os.getpid(),
         "host": socket.gethostname(), "step": "starting"},
    )  # fmt: skip
    try:
        with _Reporter(db, job["_id"], heartbeat_seconds) as reporter:
            outcome = train(
                names=job["models"],
                test_size=job["test_size"],
                epochs=job.get("epochs"),
                progress=reporter.progress,
                job_id=job["_id"],
            )
        fields = {"status": SUCCESS, "progress": 1.0, "step": "done", **outcome}
        status = SUCCESS
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the job
        log.exception("training job %s failed", job_id)
        fields, status = {"status": FAILED, "error": f"{type(error).__name__}: {error}"}, FAILED
    fields["finished_at"] = datetime.now(UTC)
    if not jobs_db.finish_if_active(db, job["_id"], fields):
        status = FAILED
    jobs_db.release_lock(db, job["_id"])
    return status


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
) -> tuple[dict[str, Any], int]:
    """Start a job: (job, 202) at once, or with ``wait`` the seed's (result, 200) once it ends."""
    job = start_training(
        models, test_size, epochs=epochs, db=db, launcher=launcher, stale_after=stale_after,
        requested_by=requested_by,
    )  # fmt: skip
    if not wait:
        return job, 202
    job = wait_for_job(job["job_id"], timeout, db=db, stale_after=stale_after)
    if job["status"] in FINISHED:
        return waited_result(job), 200
    return job, 202
