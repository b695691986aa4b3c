"""Running one admin training job inside its own process (``python -m app.jobs.train_job``).

The runner marks the job running, calls the training function with a progress callback, keeps a
heartbeat in the job document while it works, records success or failure and releases the
training lock whatever happens.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from app.db import training_jobs as jobs_db
from app.db.common import to_object_id
from app.db.training_jobs import FAILED, QUEUED, RUNNING, SUCCESS

log = logging.getLogger(__name__)


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
