"""``python -m app.jobs.train_job JOB_ID``: run one queued admin training job, then exit.

Started by ``SubprocessLauncher``; reads the same settings as the app (MONGODB_URI, MONGODB_DB,
EMBEDDED_DB_PATH, MODELS_DIR from the environment or .env).
"""

from __future__ import annotations

import functools
import logging
import sys

from app.config import load_config
from app.db.client import connect
from app.db.training_jobs import SUCCESS
from app.jobs.runner import run_job
from app.logging_config import configure_logging
from app.services import training_service

log = logging.getLogger("app.jobs.train_job")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        log.error("usage: python -m app.jobs.train_job JOB_ID")
        return 2
    config = load_config()
    configure_logging(config.LOG_LEVEL)
    db = connect(config.MONGODB_URI, config.MONGODB_DB, config.EMBEDDED_DB_PATH)
    train = functools.partial(
        training_service.train_all_models, db=db, models_dir=config.MODELS_DIR
    )
    status = run_job(argv[0], db=db, train=train)
    log.info("training job %s finished: %s", argv[0], status)
    return 0 if status == SUCCESS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
