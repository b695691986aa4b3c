"""Processes started by the web app (training jobs), never run inside a web worker."""
