"""Saved models and the manifest that names the version to serve.

Layout under MODELS_DIR::

    manifest.json                       the served version (replaced atomically)
    versions/<version>/<model_name>/    one directory per model (Recommender.save)
    reports/<version>.md|.png|.json     the run's report (ml.training.report)

A run saves its models under a new version, then replaces manifest.json in one os.replace, so a
reader sees either the old or the new manifest, never a partial one. Models trained in earlier
runs and not retrained stay in the manifest with their old paths (training only ``ncf`` keeps
the served ``item_based``). Loading reads JSON, npz and state_dicts only; no pickle.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.exceptions import NotFittedError, UnknownModelError

if TYPE_CHECKING:  # reading a manifest needs no model code (serving imports this early)
    from ml.models.base import Recommender

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
VERSIONS_DIR = "versions"
KEEP_VERSIONS = 3


def new_version(now: datetime | None = None) -> str:
    """A sortable version name from the UTC time, e.g. 20260101T120000123456Z."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def read_manifest(models_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The current manifest, or None when no run has been saved (or the file is unreadable)."""
    path = Path(models_dir) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("unreadable manifest %s: %s", path, error)
        return None
    return manifest if isinstance(manifest, dict) else None


def saved_in_current_format(models_dir: str | os.PathLike[str]) -> bool:
    """True when a manifest is readable and every model it names was saved in the format this
    code reads (models saved by an older version must be trained again)."""
    from ml.models.base import FORMAT_VERSION, META_FILE

    manifest = read_manifest(models_dir)
    if manifest is None:
        return False
    for entry in manifest.get("models", {}).values():
        try:
            meta = json.loads((Path(models_dir) / entry["path"] / META_FILE).read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if meta.get("format") != FORMAT_VERSION:
            return False
    return True


def write_manifest(models_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write manifest.json atomically: a temporary file in the same directory, fsync, os.replace."""
    directory = Path(models_dir)
    directory.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".manifest-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w") as temp:
            json.dump(manifest, temp, indent=2, default=str)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, directory / MANIFEST_FILE)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return directory / MANIFEST_FILE


def load_model(
    models_dir: str | os.PathLike[str], name: str, manifest: Mapping[str, Any] | None = None
) -> Recommender:
    """Load model ``name`` of the manifest's version (the current manifest when not given)."""
    from ml.models import MODEL_CLASSES

    manifest = manifest if manifest is not None else read_manifest(models_dir)
    if manifest is None:
        raise NotFittedError(f"no trained models in {models_dir}: run the training first")
    entry = manifest.get("models", {}).get(name)
    if entry is None:
        raise NotFittedError(f"model {name!r} is not in the manifest of {models_dir}")
    klass = MODEL_CLASSES.get(entry.get("class", name))
    if klass is None:
        raise UnknownModelError(f"unknown model class {entry.get('class')!r}")
    return klass.load(Path(models_dir) / entry["path"])


def save_run(
    models: Mapping[str, Recommender],
    models_dir: str | os.PathLike[str],
    *,
    metrics: Mapping[str, Mapping[str, Any]],
    data_summary: Mapping[str, Any],
    params: Mapping[str, Any],
    training_times: Mapping[str, float] | None = None,
    version: str | None = None,
    trained_at: datetime | None = None,
    keep_versions: int = KEEP_VERSIONS,
) -> str:
    """Save every model under a new version, then publish the manifest; return the version.

    ``params`` holds the run's settings (split, seed, epochs...); each model's own constructor
    parameters come from ``get_params()``.
    """
    directory = Path(models_dir)
    version = version or new_version()
    stamp = (trained_at or datetime.now(UTC)).isoformat()
    previous = read_manifest(directory) or {}
    entries: dict[str, Any] = dict(previous.get("models", {}))
    for name, model in models.items():
        relative = f"{VERSIONS_DIR}/{version}/{name}"
        model.save(directory / relative)
        entries[name] = {
            "path": relative,
            "class": model.name,
            "version": version,
            "trained_at": stamp,
            "params": model.get_params(),
            "metrics": dict(metrics.get(name, {})),
            "training_time": (training_times or {}).get(name),
        }
    manifest = {
        "version": version,
        "trained_at": stamp,
        "data": dict(data_summary),
        "run": dict(params),
        "models": entries,
    }
    write_manifest(directory, manifest)
    log.info("saved %s under version %s", ", ".join(models), version)
    prune_versions(directory, manifest, keep_versions)
    return version


def prune_versions(models_dir: Path, manifest: Mapping[str, Any], keep: int) -> list[str]:
    """Delete version directories the manifest does not use, keeping the ``keep`` newest."""
    root = models_dir / VERSIONS_DIR
    if not root.is_dir():
        return []
    used = {entry["path"].split("/")[1] for entry in manifest.get("models", {}).values()}
    names = sorted((p.name for p in root.iterdir() if p.is_dir()), reverse=True)
    removed = [name for name in names[keep:] if name not in used]
    for name in removed:
        shutil.rmtree(root / name, ignore_errors=True)
    return removed
