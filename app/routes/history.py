"""Users' activity history: GET /history (own), GET /history/<user_id> (self or admin)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.schemas.common import ErrorEnvelopeSchema, PaginationArgsSchema
from app.schemas.history import HistoryListSchema
from app.security import auth_required, current_user_id, current_user_is_admin
from app.services import history_service

blp = Blueprint("history", __name__, url_prefix="/history", description="Users' activity history")


def _history_of(user_id: Any, args: dict[str, Any]) -> dict[str, Any]:
    return history_service.list_history(
        user_id,
        caller_id=current_user_id(),
        caller_is_admin=current_user_is_admin(),
        db=get_db(),
        **args,
    )


@blp.route("")
class OwnHistory(MethodView):
    @auth_required
    @blp.arguments(PaginationArgsSchema, location="query")
    @blp.response(200, HistoryListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's activity, newest first (Bearer)."""
        return _history_of(current_user_id(), args)


@blp.route("/<objectid:user_id>")
class UserHistory(MethodView):
    @auth_required
    @blp.arguments(PaginationArgsSchema, location="query")
    @blp.response(200, HistoryListSchema)
    @blp.alt_response(403, schema=ErrorEnvelopeSchema, description="Neither the user nor an admin")
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown user id")
    def get(self, args: dict[str, Any], user_id: str) -> dict[str, Any]:
        """A user's activity, newest first (Bearer: the user themself or an admin)."""
        return _history_of(user_id, args)
