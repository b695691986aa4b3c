"""Entry point: ``gunicorn run:app`` (production), ``python run.py`` (Flask's development server
on PORT, debug as the configuration says) or ``flask --app run ...`` (CLI commands)."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"configuration error: {error}")

if __name__ == "__main__":
    app.run(port=app.config["PORT"], debug=app.config["DEBUG"])
