"""The ways the project is started, each as a real process: the two scripts run as plain paths,
``python run.py`` serving on PORT, and gunicorn with gunicorn.conf.py.

Every process starts at once (module fixture), so the suite waits for the slowest import, not
for the sum of them.
"""

from __future__ import annotations

import json
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.schemas.admin import MAX_WAIT_SECONDS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Started:
    import_help: subprocess.Popen
    index_help: subprocess.Popen
    flask_port: int
    gunicorn_port: int


def _answering(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    tmp = tmp_path_factory.mktemp("entry_points")
    env = {
        **os.environ,
        "APP_ENV": "testing",  # an in-process mongomock database: nothing outside the test
        "RATELIMIT_ENABLED": "false",
        "MODELS_DIR": str(tmp / "models"),
        "FAISS_INDEX_PATH": str(tmp / "faiss" / "anime.index"),
    }
    flask_port, gunicorn_port = free_port(), free_port()

    def spawn(argv: list[str], **extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**env, **extra},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    python = sys.executable
    gunicorn = str(Path(python).with_name("gunicorn"))
    processes = [
        spawn([python, "scripts/import_data.py", "--help"]),
        spawn([python, "scripts/build_faiss_index.py", "--help"]),
        spawn([python, "run.py"], PORT=str(flask_port)),
        spawn(
            [gunicorn, "--config", "gunicorn.conf.py", "--workers", "1",
             "--bind", f"127.0.0.1:{gunicorn_port}", "run:app"],
        ),  # fmt: skip
    ]
    try:
        deadline = time.monotonic() + START_SECONDS
        for port, process in ((flask_port, processes[2]), (gunicorn_port, processes[3])):
            while not _answering(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise AssertionError(f"{process.args} did not serve:\n{process.stdout.read()}")
                time.sleep(0.2)
        yield Started(processes[0], processes[1], flask_port, gunicorn_port)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()


@pytest.mark.parametrize("name", ["import_help", "index_help"])
def test_scripts_run_as_plain_paths(started: Started, name: str) -> None:
    process: subprocess.Popen = getattr(started, name)
    output, _ = process.communicate(timeout=START_SECONDS)
    assert process.returncode == 0, output
    assert output.startswith("usage:")


def test_python_run_py_serves_on_port(started: Started) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{started.flask_port}/api/anime") as response:
        assert response.status == 200
        assert json.load(response)["anime"] == []


def _raw_request(port: int, request_line: str) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\nHost: localhost\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *header_lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return status, {k.lower(): v for k, v in headers.items()}, body


def test_gunicorn_answers_an_overlong_request_line_with_the_json_envelope(started: Started):
    status, headers, body = _raw_request(
        started.gunicorn_port, f"GET /api/search?q={'a' * 5000} HTTP/1.1"
    )
    assert status.startswith("HTTP/1.1 414")
    assert headers["content-type"] == "application/json"
    assert "too large" in json.loads(body)["error"]


def test_gunicorn_serves_the_app_with_the_config_file(started: Started) -> None:
    status, headers, body = _raw_request(started.gunicorn_port, "GET /api/anime/1 HTTP/1.0")
    assert status.split(" ")[1] == "404"
    assert json.loads(body)["error"] == "anime 1 not found"


def test_worker_timeout_leaves_room_for_the_longest_wait() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["timeout"] >= MAX_WAIT_SECONDS + 30
