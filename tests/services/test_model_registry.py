"""ModelRegistry: load once, cheap version check, atomic swap, last good version on failure."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.services.model_registry import ModelRegistry
from ml.training.top_n import load_top_n, top_n_dir


class FakeModel:
    def __init__(self, name: str, version: str) -> None:
        self.name, self.version = name, version

    def get_params(self) -> dict[str, Any]:
        return {}


def fake_loader(models_dir: Path, name: str, manifest: dict[str, Any]) -> FakeModel:
    """Reads the model's directory like a real loader: missing or broken -> an exception."""
    entry = manifest["models"][name]
    meta = json.loads((models_dir / entry["path"] / "meta.json").read_text())
    return FakeModel(name, meta["version"])


def publish(models_dir: Path, version: str, names: tuple[str, ...] = ("item_based", "ncf")) -> None:
    """A run: model directories first, then the manifest replaced in one os.replace."""
    for name in names:
        directory = models_dir / "versions" / version / name
        directory.mkdir(parents=True)
        (directory / "meta.json").write_text(json.dumps({"version": version}))
    manifest = {
        "version": version,
        "trained_at": "2026-01-01T00:00:00+00:00",
        "models": {name: {"path": f"versions/{version}/{name}", "params": {}} for name in names},
    }
    temp = models_dir / "manifest.tmp"
    temp.write_text(json.dumps(manifest))
    temp.replace(models_dir / "manifest.json")


def registry(models_dir: Path, **kwargs: Any) -> ModelRegistry:
    kwargs.setdefault("background", False)
    kwargs.setdefault("check_interval", 0)
    return ModelRegistry(models_dir, loader=fake_loader, **kwargs)


def test_no_models_is_an_empty_set_not_an_error(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    assert reg.status()["state"] == "not_loaded"
    assert reg.current().models == {}
    assert reg.get("hybrid") is None
    assert reg.status()["state"] == "empty"


def test_loads_once_and_serves_the_same_objects(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    calls: list[str] = []

    def counting(models_dir: Path, name: str, manifest: dict[str, Any]) -> FakeModel:
        calls.append(name)
        return fake_loader(models_dir, name, manifest)

    reg = ModelRegistry(tmp_path, loader=counting, check_interval=0, background=False)
    first = reg.current()
    for _ in range(5):
        assert reg.current() is first
    assert sorted(calls) == ["item_based", "ncf"]
    assert reg.status()["state"] == "ready" and reg.status()["version"] == "v1"


def test_new_version_is_swapped_in_whole(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    reg = registry(tmp_path)
    old = reg.current()
    publish(tmp_path, "v2")
    new = reg.current()
    assert new.version == "v2"
    assert {m.version for m in new.models.values()} == {"v2"}
    # A request that took the old set keeps a complete, unchanged v1.
    assert {m.version for m in old.models.values()} == {"v1"}


def test_version_is_checked_at_most_every_interval(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    reg = registry(tmp_path, check_interval=3600)
    reg.current()
    publish(tmp_path, "v2")
    assert reg.current().version == "v1"
    reg.refresh_if_due(force=True)
    assert reg.current().version == "v2"


def test_broken_model_keeps_the_last_good_version(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    reg = registry(tmp_path)
    reg.current()
    publish(tmp_path, "v2")
    (tmp_path / "versions" / "v2" / "ncf" / "meta.json").write_text("{not json")
    assert reg.current().version == "v1"
    status = reg.status()
    assert status["state"] == "degraded"
    assert status["last_error"]["version"] == "v2"
    assert "ncf" in status["last_error"]["errors"]
    # The failed version is not retried on every request, and a good run recovers.
    assert reg.current().version == "v1"
    publish(tmp_path, "v3")
    assert reg.current().version == "v3"
    assert reg.status()["state"] == "ready" and reg.status()["last_error"] is None


def test_missing_model_directory_keeps_the_last_good_version(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    reg = registry(tmp_path)
    reg.current()
    publish(tmp_path, "v2")
    for path in sorted((tmp_path / "versions" / "v2" / "item_based").iterdir()):
        path.unlink()
    assert reg.current().version == "v1"
    assert "item_based" in reg.status()["last_error"]["errors"]


def test_background_reload_serves_the_old_version_until_loaded(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    gate = threading.Event()

    def slow(models_dir: Path, name: str, manifest: dict[str, Any]) -> FakeModel:
        if manifest["version"] == "v2":
            gate.wait(10)
        return fake_loader(models_dir, name, manifest)

    reg = ModelRegistry(tmp_path, loader=slow, check_interval=0, background=True)
    reg.current()
    publish(tmp_path, "v2")
    assert reg.current().version == "v1"  # starts the load, answers at once
    assert reg.status()["loading_version"] == "v2"
    assert reg.current().version == "v1"
    gate.set()
    reg.wait_for_reload()
    assert reg.current().version == "v2"
    assert reg.status()["loading_version"] is None


def test_top_n_lists_are_picked_up_when_they_land(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    reg = registry(tmp_path)
    assert reg.current().top_n == {}
    directory = top_n_dir(tmp_path, "v1")
    directory.mkdir()
    np.save(directory / "item_based.items.npy", np.array([[5, 7], [9, -1]]))
    np.save(directory / "item_based.ratings.npy", np.array([[9.0, 8.0], [7.5, np.nan]], "f4"))
    np.save(directory / "users.npy", np.array(["u1", "u2"]))
    snapshot = reg.current()
    assert snapshot.version == "v1" and sorted(snapshot.top_n) == ["item_based"]
    found = snapshot.top_n["item_based"].for_user("u2")
    assert found is not None
    items, ratings, because = found
    assert items.tolist() == [9, -1] and ratings[0] == pytest.approx(7.5) and because is None
    assert snapshot.top_n["item_based"].for_user("nobody") is None
    assert reg.status()["precomputed_top_n"] == ["item_based"]


def test_load_top_n_without_files_is_empty(tmp_path: Path) -> None:
    assert load_top_n(tmp_path, ["hybrid"]) == {}


def test_hybrid_components_of_the_same_run_are_shared(tmp_path: Path) -> None:
    users_component = FakeModel("user_based", "v1")

    def loader(models_dir: Path, name: str, manifest: dict[str, Any]) -> FakeModel:
        model = fake_loader(models_dir, name, manifest)
        if name == "hybrid":
            model.components = {"user_based": users_component}  # type: ignore[attr-defined]
        return model

    publish(tmp_path, "v1", ("user_based", "item_based", "hybrid"))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for entry in manifest["models"].values():
        entry["version"] = "v1"
    manifest["models"]["item_based"]["version"] = "v0"  # saved by an earlier run
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    snapshot = ModelRegistry(tmp_path, loader=loader, background=False).current()
    assert snapshot.get("user_based") is users_component
    assert snapshot.get("item_based") is not None
    assert snapshot.get("item_based") is not users_component


def test_a_corrupt_manifest_leaves_the_last_good_version_serving(tmp_path: Path) -> None:
    publish(tmp_path, "v1")
    reg = registry(tmp_path)
    assert reg.current().version == "v1"
    (tmp_path / "manifest.json").write_text('{"version": "v2", "models": {')
    reg.refresh_if_due(force=True)
    assert reg.current().version == "v1" and sorted(reg.current().models) == ["item_based", "ncf"]
    fresh = registry(tmp_path)  # a worker starting now: nothing to serve, and no error
    assert fresh.current().models == {} and fresh.status()["state"] == "empty"


def test_hybrid_components_with_other_settings_are_loaded_on_their_own(tmp_path: Path) -> None:
    """The hybrid may give its copy of a component another damping: not the served one."""
    tuned = FakeModel("user_based", "v1")
    tuned.get_params = lambda: {"damping": 0.05}  # type: ignore[method-assign]

    def loader(models_dir: Path, name: str, manifest: dict[str, Any]) -> FakeModel:
        model = fake_loader(models_dir, name, manifest)
        if name == "hybrid":
            model.components = {"user_based": tuned}  # type: ignore[attr-defined]
        return model

    publish(tmp_path, "v1", ("user_based", "hybrid"))
    snapshot = ModelRegistry(tmp_path, loader=loader, background=False).current()
    assert snapshot.get("user_based") is not tuned
