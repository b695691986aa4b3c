"""Trained models for serving: loaded once per worker, swapped atomically when a new run lands.

A request takes one ``ModelSet`` (``registry.current()``) and uses only it, so it never sees a
half-loaded model: a new version is loaded completely, then the single ``_current`` reference is
replaced (one assignment, atomic under the GIL). At most every ``check_interval`` seconds a request
stats ``MODELS_DIR/manifest.json`` (a few microseconds); when its version changed, the new version
loads in a background thread while the previous one keeps serving. A version that fails to load
is recorded in ``status()`` and leaves the last good version serving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.training.persistence import MANIFEST_FILE, read_manifest
from ml.training.top_n import USERS_FILE, TopN, load_top_n, top_n_dir

log = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 2.0

Loader = Callable[[Path, str, dict[str, Any]], Any]


@dataclass(frozen=True)
class ModelSet:
    """One trained version as served: every model of it, fully loaded, never mutated."""

    version: str | None = None
    trained_at: str | None = None
    models: Mapping[str, Any] = field(default_factory=dict)
    top_n: Mapping[str, TopN] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    loaded_at: datetime | None = None

    def get(self, name: str) -> Any | None:
        return self.models.get(name)


def default_loader(models_dir: Path, name: str, manifest: dict[str, Any]) -> Any:
    """Load one model of a manifest with the training package's persistence."""
    from ml.training.persistence import load_model

    return load_model(models_dir, name, manifest)


def _shared_component(hybrid: Any, entries: Mapping[str, Any], name: str) -> Any | None:
    """The hybrid's own copy of ``name`` when both were saved by the same run with the same
    settings (the hybrid may have given a component another damping)."""
    if hybrid is None or name == "hybrid":
        return None
    version = entries[name].get("version")
    same_run = version is not None and version == entries.get("hybrid", {}).get("version")
    component = getattr(hybrid, "components", {}).get(name) if same_run else None
    if component is None or component.get_params() != entries[name].get("params"):
        return None
    return component


class ModelRegistry:
    """The worker's trained models; ``current()`` is the only thing a request needs."""

    def __init__(
        self,
        models_dir: str | os.PathLike[str],
        *,
        check_interval: float = CHECK_INTERVAL_SECONDS,
        loader: Loader = default_loader,
        background: bool = True,
    ) -> None:
        self.models_dir = Path(models_dir)
        self.check_interval = check_interval
        self._loader = loader
        self._background = background
        self._current: ModelSet | None = None
        self._load_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._next_check = 0.0
        self._seen: tuple[int, int, int] | None = None
        self._loading: str | None = None
        self._last_error: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ serving
    def current(self) -> ModelSet:
        """The version to answer this request with (loads it on the worker's first call)."""
        snapshot = self._current
        if snapshot is None:
            with self._load_lock:
                if self._current is None:
                    self._seen = self._manifest_signature()
                    self._next_check = time.monotonic() + self.check_interval
                    self._current = self._build(read_manifest(self.models_dir), previous=None)
            snapshot = self._current
            assert snapshot is not None
        else:
            self.refresh_if_due()
        return self._current or snapshot

    def get(self, name: str) -> Any | None:
        """The loaded model called ``name``, or None."""
        return self.current().get(name)

    # ------------------------------------------------------------------ hot reload
    def _manifest_signature(self) -> tuple[int, int, int] | None:
        try:
            stat = (self.models_dir / MANIFEST_FILE).stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def refresh_if_due(self, *, force: bool = False) -> None:
        """Start loading a new version when the manifest or the precomputed lists changed."""
        now = time.monotonic()
        if not force and now < self._next_check:
            return
        if not self._check_lock.acquire(blocking=False):
            return
        try:
            self._next_check = now + self.check_interval
            if self._loading is not None:
                return
            signature = self._manifest_signature()
            snapshot = self._current or ModelSet()
            if signature != self._seen:
                self._seen = signature
                manifest = read_manifest(self.models_dir)
                if manifest is not None and manifest.get("version") != snapshot.version:
                    self._start_load(manifest)
            elif snapshot.version and self._top_n_landed(snapshot):
                self._start_load(read_manifest(self.models_dir) or {})
        finally:
            self._check_lock.release()

    def _top_n_landed(self, snapshot: ModelSet) -> bool:
        """The training job writes top-N lists after the models: pick them up when they appear."""
        if snapshot.top_n or not snapshot.version:
            return False
        return (top_n_dir(self.models_dir, snapshot.version) / USERS_FILE).exists()

    def _start_load(self, manifest: dict[str, Any]) -> None:
        self._loading = str(manifest.get("version"))
        if self._background:
            self._thread = threading.Thread(
                target=self._load_and_swap, args=(manifest,), name="model-reload", daemon=True
            )
            self._thread.start()
        else:
            self._load_and_swap(manifest)

    def _load_and_swap(self, manifest: dict[str, Any]) -> None:
        try:
            with self._load_lock:
                self._current = self._build(manifest, previous=self._current)
        except Exception as error:  # noqa: BLE001 - a bad run must never stop serving
            log.exception("loading model version %s failed", manifest.get("version"))
            self._record_error(manifest, {"*": f"{type(error).__name__}: {error}"})
        finally:
            self._loading = None

    def wait_for_reload(self, timeout: float = 30.0) -> None:
        """Block until a background reload in progress has finished (tests, warm-up)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _build(self, manifest: dict[str, Any] | None, previous: ModelSet | None) -> ModelSet:
        """Load every model of ``manifest``; keep ``previous`` when any of them fails."""
        if manifest is None:
            return previous or ModelSet()
        version = str(manifest.get("version"))
        if previous is not None and previous.version == version:
            models, errors = dict(previous.models), dict(previous.errors)
        else:
            models, errors = self._load_models(manifest)
        if errors and previous is not None and previous.models:
            self._record_error(manifest, errors)
            return previous
        if errors:
            self._record_error(manifest, errors)
        else:
            self._last_error = None
        snapshot = ModelSet(
            version=version,
            trained_at=manifest.get("trained_at"),
            models=models,
            top_n=load_top_n(top_n_dir(self.models_dir, version), sorted(models)),
            errors=errors,
            loaded_at=datetime.now(UTC),
        )
        log.info("serving model version %s: %s", version, ", ".join(sorted(models)) or "none")
        return snapshot

    def _load_models(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Every model of the manifest, the hybrid first: components it saved from the same run
        are the very models the run saved on their own, so they are shared, not loaded twice."""
        entries: dict[str, Any] = manifest.get("models") or {}
        models: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in sorted(entries, key=lambda name: name != "hybrid"):
            shared = _shared_component(models.get("hybrid"), entries, name)
            if shared is not None:
                models[name] = shared
                continue
            try:
                models[name] = self._loader(self.models_dir, name, manifest)
            except Exception as error:  # noqa: BLE001 - recorded and reported, not raised
                log.warning(
                    "model %s of version %s did not load: %s", name, manifest.get("version"), error
                )
                errors[name] = f"{type(error).__name__}: {error}"
        return models, errors

    def _record_error(self, manifest: dict[str, Any], errors: Mapping[str, str]) -> None:
        self._last_error = {
            "version": manifest.get("version"),
            "errors": dict(errors),
            "at": datetime.now(UTC).isoformat(),
        }

    # ------------------------------------------------------------------ reporting
    def status(self) -> dict[str, Any]:
        """What /health and the admin metrics report: version served, models, last load error."""
        snapshot = self._current
        if snapshot is None:
            state = "not_loaded"
        elif not snapshot.models:
            state = "empty"
        elif self._last_error or snapshot.errors:
            state = "degraded"
        else:
            state = "ready"
        snapshot = snapshot or ModelSet()
        return {
            "state": state,
            "version": snapshot.version,
            "trained_at": snapshot.trained_at,
            "loaded_at": snapshot.loaded_at.isoformat() if snapshot.loaded_at else None,
            "models": sorted(snapshot.models),
            "precomputed_top_n": sorted(snapshot.top_n),
            "loading_version": self._loading,
            "last_error": self._last_error,
        }
