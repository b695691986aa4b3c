"""Schemas of a user's list: the status body, list arguments, entries, the import's result."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.db.list_entries import STATUSES
from app.schemas.anime import AnimeSummarySchema
from app.schemas.common import PaginationArgsSchema, PaginationMetaSchema, UtcDateTime


def status_field(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.OneOf(STATUSES, error="must be one of: {choices}"), **kwargs
    )


class StatusInputSchema(Schema):
    """``{status}``: one of the six list statuses."""

    status = status_field(required=True)


class ListArgsSchema(PaginationArgsSchema):
    """``?status=&page=&limit=``; no status lists every entry."""

    status = status_field()


class ListEntrySchema(Schema):
    anime_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    updated_at = UtcDateTime(required=True, metadata={"description": "when it last changed"})


class ListEntryWithAnimeSchema(ListEntrySchema):
    anime = fields.Nested(AnimeSummarySchema, allow_none=True)


class ListSchema(PaginationMetaSchema):
    entries = fields.List(fields.Nested(ListEntryWithAnimeSchema), required=True)


class ImportResultSchema(Schema):
    ratings_imported = fields.Integer(required=True, metadata={"description": "new ratings"})
    ratings_updated = fields.Integer(
        required=True, metadata={"description": "ratings whose value the file changed"}
    )
    statuses_imported = fields.Integer(
        required=True, metadata={"description": "list entries added or given another status"}
    )
    unknown_anime = fields.Integer(
        required=True, metadata={"description": "entries whose anime is not in the catalogue"}
    )
    skipped = fields.Integer(
        required=True, metadata={"description": "malformed entries and repeats of an anime"}
    )
