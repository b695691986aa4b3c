"""Health of the service and its dependencies."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from app.db.client import ping
from app.errors import ServiceUnavailable
from app.services.model_registry import ModelRegistry


def check_health(*, db: Database, registry: ModelRegistry | None = None) -> dict[str, Any]:
    """``{"status": "ok", "database": "ok", "models": {...}}``, or ServiceUnavailable.

    The models' state (version served, a failed reload...) is reported, not judged: the API
    still answers (fold-in, popularity) without trained models, so only the database decides.
    """
    problem = ping(db)
    if problem:
        raise ServiceUnavailable(problem, details={"database": "unreachable"})
    health: dict[str, Any] = {"status": "ok", "database": "ok"}
    if registry is not None:
        registry.current()  # loads on the worker's first call, else a cheap version check
        health["models"] = registry.status()
    return health
