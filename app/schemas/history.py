"""Schemas of the activity history."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.db.list_entries import STATUSES
from app.db.watch_history import ACTIONS
from app.schemas.anime import AnimeSummarySchema
from app.schemas.common import PaginationMetaSchema, UtcDateTime


class HistoryEntrySchema(Schema):
    id = fields.String(required=True)
    user_id = fields.String(required=True)
    anime_id = fields.Integer(required=True)
    action = fields.String(required=True, metadata={"enum": list(ACTIONS)})
    rating = fields.Integer(allow_none=True)
    previous_rating = fields.Integer(allow_none=True)
    status = fields.String(
        allow_none=True, metadata={"enum": list(STATUSES), "description": "list actions only"}
    )
    previous_status = fields.String(allow_none=True, metadata={"enum": list(STATUSES)})
    created_at = UtcDateTime(allow_none=True)
    anime = fields.Nested(AnimeSummarySchema, allow_none=True)


class HistoryListSchema(PaginationMetaSchema):
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True)
