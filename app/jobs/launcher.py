"""Starting a training job's process from a web worker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from app.config import PROJECT_ROOT


@dataclass(frozen=True)
class SubprocessLauncher:
    """Starts ``python -m app.jobs.train_job JOB_ID`` detached, with the database settings.

    ``env`` (the database and models settings) is laid over this process's environment; the
    child's output goes to ``log_dir/<job_id>.log``.
    """

    env: dict[str, str]
    log_dir: Path

    def __call__(self, job_id: str) -> int:
        if self.env.get("MONGODB_URI", "").startswith("mongomock://"):
            raise RuntimeError("a training process cannot reach an in-process mongomock database")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / f"{job_id}.log", "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.jobs.train_job", job_id],
                cwd=PROJECT_ROOT,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Reap the child when it ends so it does not linger as a zombie of this worker.
        threading.Thread(target=process.wait, name=f"train-{job_id}", daemon=True).start()
        return process.pid
