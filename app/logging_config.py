"""Process-wide logging format."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    """One line per record on stderr; leave handlers alone when something set them up already."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(level)
