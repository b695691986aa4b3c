"""The per-worker semantic search index and its incremental update (no Flask here).

``SearchIndex`` is created once per process by the factory (``app.extensions["search_index"]``).
It loads the FAISS index from ``FAISS_INDEX_PATH`` on first use (the embedding model on the first
query), and reloads it when the index's sidecar changes on disk, so a rebuild by the script or an
incremental update made by another worker is picked up by every worker without a restart.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymongo.database import Database

from app.db import anime as anime_db
from app.errors import Conflict, ServiceUnavailable
from ml.exceptions import IndexNotBuiltError
from ml.services.faiss_service import Encoder, FAISSService

log = logging.getLogger(__name__)

NOT_BUILT = (
    "semantic search index is not built; build it with "
    "`python -m scripts.build_faiss_index` (make run does) or use type=keyword"
)
MAX_REQUEST_UPDATES = 500


class SearchIndex:
    """A FAISSService loaded lazily from ``index_path`` and reloaded when the file changes."""

    def __init__(
        self,
        index_path: str | Path,
        model_name: str,
        *,
        encoder: Encoder | None = None,
        threads: int | None = 1,
    ):
        self.index_path = Path(index_path)
        self.model_name = model_name
        self.encoder = encoder
        self.threads = threads
        self._service: FAISSService | None = None
        self._loaded_mtime: float | None = None
        self._lock = threading.Lock()

    def _new_service(self) -> FAISSService:
        service = FAISSService(
            self.index_path, self.model_name, encoder=self.encoder, threads=self.threads
        )
        # Share one encoder (and so one model) across reloads.
        self.encoder = service.encoder
        return service

    def _mtime(self) -> float | None:
        try:
            return FAISSService.meta_path(self.index_path).stat().st_mtime
        except OSError:
            return None

    def current(self) -> FAISSService:
        """The loaded index, (re)loaded when the file on disk is new; IndexNotBuiltError if none."""
        mtime = self._mtime()
        if mtime is not None and mtime != self._loaded_mtime:
            with self._lock:
                if mtime != self._loaded_mtime:
                    try:
                        self._service = self._new_service().load()
                        self._loaded_mtime = mtime
                        log.info("search index loaded: %d anime", len(self._service))
                    except IndexNotBuiltError as error:  # torn write: keep the last good index
                        log.warning("search index not reloaded: %s", error)
        if self._service is None:
            raise IndexNotBuiltError(NOT_BUILT)
        return self._service

    @property
    def is_built(self) -> bool:
        try:
            self.current()
        except IndexNotBuiltError:
            return False
        return True

    def search(self, query: str, k: int, genres: Sequence[str] = ()) -> list[tuple[int, float]]:
        return self.current().search(query, k, genres)

    def similar(self, anime_id: int, k: int) -> list[tuple[int, float]]:
        return self.current().similar(anime_id, k)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One writer at a time across processes (a lock file beside the index)."""
        self.index_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.index_path.with_name(self.index_path.name + ".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def update(self, records: Iterable[dict[str, Any]], limit: int) -> dict[str, Any]:
        """Re-encode the new or changed ``records`` and save; Conflict when more than ``limit``."""
        with self._exclusive():
            service = self.current()
            changed = service.changed(records)
            if len(changed) > limit:
                raise Conflict(
                    f"{len(changed)} anime changed since the index was built; more than {limit}"
                    " is a rebuild: run `python -m scripts.build_faiss_index --update`"
                )
            service.update(changed)
            if changed:
                service.save()
                self._loaded_mtime = self._mtime()
        return {
            "updated": len(changed),
            "anime_ids": [int(record["anime_id"]) for record in changed],
            "indexed": len(service),
        }


def update_search_index(
    *,
    db: Database,
    index: SearchIndex | None,
    anime_ids: Sequence[int] | None = None,
    limit: int = MAX_REQUEST_UPDATES,
) -> dict[str, Any]:
    """Re-encode anime added or changed since the build (all of them, or only ``anime_ids``).

    Changed means its embedded text (name, genres, type, synopsis) differs from the indexed one.
    """
    if index is None:
        raise ServiceUnavailable(NOT_BUILT)
    records = list(anime_db.iter_for_index(db, anime_ids))
    try:
        return index.update(records, limit)
    except IndexNotBuiltError as error:
        raise ServiceUnavailable(NOT_BUILT) from error
