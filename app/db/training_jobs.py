"""Queries on ``training_jobs`` (one document per admin training run) and the training lock.

The lock is one document in ``training_lock`` (``_id: "training"``): taking it is a single
conditional upsert, so two workers asking at once cannot both start a run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from app.db.common import as_utc, indexed_id_filter

LOCK_ID = "training"
QUEUED, RUNNING, SUCCESS, FAILED = "queued", "running", "success", "failed"
ACTIVE_STATUSES = (QUEUED, RUNNING)
FINISHED_STATUSES = (SUCCESS, FAILED)
TIME_FIELDS = ("created_at", "started_at", "finished_at", "heartbeat_at")


def _with_datetimes(job: dict[str, Any] | None) -> dict[str, Any] | None:
    """Timestamps as aware datetimes: the embedded server returns a ``$set`` datetime as text."""
    if job is None:
        return None
    for name in TIME_FIELDS:
        value = job.get(name)
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        job[name] = as_utc(value) if isinstance(value, datetime) else value
    return job


def insert(db: Database, document: dict[str, Any]) -> ObjectId:
    return db.training_jobs.insert_one(document).inserted_id


def find_by_id(db: Database, job_id: ObjectId) -> dict[str, Any] | None:
    return _with_datetimes(db.training_jobs.find_one({"_id": job_id}))


def recent(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    """The newest jobs first."""
    cursor = db.training_jobs.find({}).sort("created_at", DESCENDING).limit(limit)
    return [job for job in map(_with_datetimes, cursor) if job is not None]


def find_active(db: Database) -> list[dict[str, Any]]:
    """Jobs that are queued or running."""
    cursor = db.training_jobs.find({"status": {"$in": list(ACTIVE_STATUSES)}})
    return [job for job in map(_with_datetimes, cursor) if job is not None]


def update(db: Database, job_id: ObjectId, fields: dict[str, Any]) -> None:
    db.training_jobs.update_one({"_id": job_id}, {"$set": fields})


def finish_if_active(db: Database, job_id: ObjectId, fields: dict[str, Any]) -> bool:
    """Set the final fields only while the job is still queued or running; return if it was."""
    result = db.training_jobs.update_one(
        {"_id": job_id, "status": {"$in": list(ACTIVE_STATUSES)}}, {"$set": fields}
    )
    return result.modified_count == 1


def acquire_lock(db: Database, job_id: ObjectId, now: datetime) -> bool:
    """Take the training lock for ``job_id``; False when another job holds it."""
    try:
        db.training_lock.find_one_and_update(
            {"_id": LOCK_ID, "job_id": None},
            {"$set": {"job_id": job_id, "acquired_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        return False
    holder = db.training_lock.find_one({"_id": LOCK_ID})
    return holder is not None and holder.get("job_id") == job_id


def lock_holder(db: Database) -> ObjectId | None:
    holder = db.training_lock.find_one({"_id": LOCK_ID})
    return holder.get("job_id") if holder else None


def release_lock(db: Database, job_id: ObjectId) -> bool:
    """Release the lock if ``job_id`` holds it; return whether it did."""
    held_by = {"_id": LOCK_ID, **indexed_id_filter(db, "job_id", job_id)}
    result = db.training_lock.update_one(held_by, {"$set": {"job_id": None}})
    return result.modified_count == 1
