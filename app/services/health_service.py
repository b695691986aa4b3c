"""Health of the service and its dependencies."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from app.db.client import ping
from app.errors import ServiceUnavailable


def check_health(*, db: Database) -> dict[str, Any]:
    """``{"status": "ok", "database": "ok"}``, or ServiceUnavailable with the reason."""
    problem = ping(db)
    if problem:
        raise ServiceUnavailable(problem, details={"database": "unreachable"})
    return {"status": "ok", "database": "ok"}
