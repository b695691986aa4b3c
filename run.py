"""WSGI entry point: ``gunicorn run:app`` or ``flask --app run ...``."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"configuration error: {error}")
