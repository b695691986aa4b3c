"""Use case: import a MyAnimeList export into the user's ratings and list.

The whole file is read and checked before anything is written, so a bad file writes nothing.
Ratings are written with the rating service's documents, data access and history actions
(``rated``, ``re-rated``), statuses with the list's (``listed``, ``status_changed``), in batches;
then the user is stamped. Only what differs from the database is written: importing the same
file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from app.db import anime as anime_db
from app.db import list_entries as list_db
from app.db import ratings as ratings_db
from app.db import users as users_db
from app.db import watch_history as history_db
from app.errors import BadRequest
from app.services.history_service import rating_entry, status_entry, utc_now
from app.services.list_service import new_entry
from app.services.mal_export import (
    MAX_ENTRIES,
    MAX_XML_BYTES,
    InvalidExport,
    MalEntry,
    read_export,
)
from app.services.rating_service import new_rating

BATCH_SIZE = 5000
DUPLICATE_KEY = 11000

T = TypeVar("T")


@dataclass
class ImportResult:
    ratings_imported: int = 0  # new ratings
    ratings_updated: int = 0  # ratings whose value the file changed
    statuses_imported: int = 0  # list entries added or given another status
    unknown_anime: int = 0  # entries whose anime is not in the catalogue
    skipped: int = 0  # malformed entries and repeats of an anime

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


def _insert_new(
    db: Database,
    insert_many: Callable[[Database, list[dict[str, Any]]], int],
    documents: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Insert ``documents`` in batches; return those inserted.

    A document the unique index refuses was written by a concurrent request for the same user
    and anime since the import read the user's data; that write stands.
    """
    inserted: list[dict[str, Any]] = []
    for batch in _batches(documents):
        try:
            insert_many(db, batch)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(item.get("code") != DUPLICATE_KEY for item in errors):
                raise
            refused = {item["index"] for item in errors}
            batch = [doc for index, doc in enumerate(batch) if index not in refused]
        inserted.extend(batch)
    return inserted


def _import_ratings(
    db: Database,
    user_id: ObjectId,
    scored: list[MalEntry],
    now: datetime,
    result: ImportResult,
) -> list[dict[str, Any]]:
    """Write new and changed ratings; return their history entries."""
    stored = ratings_db.ids_for_user(db, user_id)
    new_documents, changes, history = [], [], []
    for entry in scored:
        current = stored.get(entry.anime_id)
        if current is None:
            new_documents.append(new_rating(user_id, entry.anime_id, entry.score, at=now))
        elif current[1] != entry.score:
            changes.append((current[0], entry.score))
            history.append(
                rating_entry(
                    user_id=user_id,
                    anime_id=entry.anime_id,
                    action=history_db.RE_RATED,
                    rating=entry.score,
                    previous_rating=current[1],
                    at=now,
                )
            )
    inserted = _insert_new(db, ratings_db.insert_many, new_documents)
    result.ratings_imported = len(inserted)
    result.ratings_updated = ratings_db.set_ratings(db, changes)
    history.extend(
        rating_entry(
            user_id=user_id,
            anime_id=doc["anime_id"],
            action=history_db.RATED,
            rating=doc["rating"],
            previous_rating=None,
            at=now,
        )
        for doc in inserted
    )
    return history


def _import_statuses(
    db: Database,
    user_id: ObjectId,
    entries: list[MalEntry],
    now: datetime,
    result: ImportResult,
) -> list[dict[str, Any]]:
    """Write new and changed list entries; return their history entries."""
    stored = list_db.entries_for_user(db, user_id)
    new_documents, changes, history = [], [], []
    for entry in entries:
        current = stored.get(entry.anime_id)
        if current is None:
            new_documents.append(new_entry(user_id, entry.anime_id, entry.status, at=now))
        elif current[1] != entry.status:
            changes.append((current[0], entry.status))
            history.append(
                status_entry(
                    user_id=user_id,
                    anime_id=entry.anime_id,
                    action=history_db.STATUS_CHANGED,
                    status=entry.status,
                    previous_status=current[1],
                    at=now,
                )
            )
    inserted = _insert_new(db, list_db.insert_many, new_documents)
    result.statuses_imported = len(inserted) + list_db.set_statuses(db, changes)
    history.extend(
        status_entry(
            user_id=user_id,
            anime_id=doc["anime_id"],
            action=history_db.LISTED,
            status=doc["status"],
            previous_status=None,
            at=now,
        )
        for doc in inserted
    )
    return history


def import_mal_export(
    user_id: ObjectId,
    data: bytes,
    *,
    db: Database,
    declared_gzip: bool = False,
    now: datetime | None = None,
    max_entries: int = MAX_ENTRIES,
    max_xml_bytes: int = MAX_XML_BYTES,
) -> dict[str, int]:
    """Import a MyAnimeList export (XML or gzip) into the user's ratings and list.

    Returns ``{ratings_imported, ratings_updated, statuses_imported, unknown_anime, skipped}``.
    A score of 0 (not scored) leaves the user's rating alone; any other score sets it. BadRequest,
    with nothing written, when the file is not a readable export (see ``mal_export``).
    """
    try:
        export = read_export(
            data, declared_gzip=declared_gzip, max_entries=max_entries, max_xml_bytes=max_xml_bytes
        )
    except InvalidExport as error:
        raise BadRequest(f"invalid MyAnimeList export: {error}") from None
    now = now or utc_now()
    known = anime_db.find_existing_ids(db, (entry.anime_id for entry in export.entries))
    entries = [entry for entry in export.entries if entry.anime_id in known]
    result = ImportResult(unknown_anime=len(export.entries) - len(entries), skipped=export.skipped)
    history = _import_ratings(db, user_id, [entry for entry in entries if entry.score], now, result)
    history += _import_statuses(db, user_id, entries, now, result)
    if history:
        users_db.mark_ratings_changed(db, [user_id])
    for batch in _batches(history):
        history_db.insert_many(db, batch)
    return result.as_dict()
