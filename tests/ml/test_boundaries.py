"""ml/ stays framework-free: importing it must not pull in flask, pymongo or app."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = ["ml.models", "ml.services", "ml.training.evaluate"]
FORBIDDEN = ["flask", "pymongo", "app"]
ROOT = Path(__file__).resolve().parents[2]


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("module", MODULES)
def test_import_does_not_load_the_web_stack(module: str) -> None:
    if not _exists(module):
        pytest.skip(f"{module} does not exist yet")
    code = (
        f"import sys, {module}\n" f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.strip() == ""
