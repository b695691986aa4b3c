"""The embedded MongoDB: an nx-27017 wire-protocol server over a SQLite file, shared per machine.

The first process to need it starts it on a free loopback port and writes ``<db>.port``; every
other process (gunicorn workers, the import script, training jobs) finds it through that file.
A file lock makes the check-then-start atomic across processes. The server outlives the process
that started it, so data and the server survive worker restarts; ``stop_embedded_server`` ends it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0

# Servers this process started, by pid: kept so they can be reaped when stopped from here.
_started: dict[int, subprocess.Popen] = {}


def _port_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".port")


@contextmanager
def _machine_lock(db_path: Path) -> Iterator[None]:
    lock_path = db_path.with_name(db_path.name + ".lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def _answers(port: int, timeout_ms: int = 1000) -> bool:
    client: MongoClient = MongoClient(_uri(port), serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _read_running(db_path: Path) -> dict | None:
    """The port file's content when its server is alive (a busy server counts as running)."""
    try:
        info = json.loads(_port_file(db_path).read_text())
        port, pid = int(info["port"]), int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if _answers(port) or (_process_alive(pid) and _listening(port)):
        return info
    return None


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _spawn(db_path: Path, port: int) -> subprocess.Popen:
    log_path = db_path.with_name(db_path.name + ".server.log")
    command = [
        sys.executable,
        "-c",
        "from nx_27017.nx_27017 import main; raise SystemExit(main())",
        "--pid-file",
        str(db_path.with_name(db_path.name + ".pid")),
        "--db",
        str(db_path),
        "--host",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with open(log_path, "ab") as server_log:
        return subprocess.Popen(
            command,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def ensure_embedded_server(db_path: str | os.PathLike[str]) -> str:
    """Return the URI of the machine's embedded server for ``db_path``, starting it if needed."""
    path = Path(db_path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _machine_lock(path):
        running = _read_running(path)
        if running:
            return _uri(int(running["port"]))
        port = _free_port()
        process = _spawn(path, port)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(port, timeout_ms=250):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"embedded MongoDB (nx-27017) did not start for {path}")
            time.sleep(0.1)
        _started[process.pid] = process
        _port_file(path).write_text(json.dumps({"port": port, "pid": process.pid}))
        log.info("started embedded MongoDB on 127.0.0.1:%d over %s", port, path)
        return _uri(port)


def stop_embedded_server(db_path: str | os.PathLike[str]) -> bool:
    """Stop the embedded server for ``db_path`` if one runs; return whether one was stopped."""
    path = Path(db_path).resolve()
    with _machine_lock(path):
        running = _read_running(path)
        _port_file(path).unlink(missing_ok=True)
        if not running:
            return False
        pid = int(running["pid"])
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        process = _started.pop(pid, None)
        if process is not None:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        return True
