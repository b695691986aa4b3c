"""The caller's list: GET /list, PUT and DELETE /list/<anime_id>, POST /list/import (MAL export)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from werkzeug.exceptions import RequestEntityTooLarge

from app.db import get_db
from app.errors import BadRequest
from app.extensions import INT64_MAX, Blueprint
from app.schemas.common import ErrorEnvelopeSchema
from app.schemas.list_entry import (
    ImportResultSchema,
    ListArgsSchema,
    ListEntrySchema,
    ListSchema,
    StatusInputSchema,
)
from app.security import auth_required, current_user_id
from app.services import list_import_service, list_service

blp = Blueprint(
    "list", __name__, url_prefix="/list", description="The caller's list: statuses and MAL import"
)
ANIME_ID_RULE = f"/<int(max={INT64_MAX}):anime_id>"
EXPORT_FIELD = "file"
GZIP_TYPES = ("application/gzip", "application/x-gzip")
_BINARY = {"schema": {"type": "string", "format": "binary"}}
EXPORT_BODY = {
    "required": True,
    "description": (
        "A MyAnimeList export (animelist_*.xml or animelist_*.xml.gz): a multipart file field "
        f"'{EXPORT_FIELD}', or the file itself as the body. Up to 10 MiB "
        "(IMPORT_MAX_CONTENT_LENGTH)."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {EXPORT_FIELD: {"type": "string", "format": "binary"}},
                "required": [EXPORT_FIELD],
            }
        },
        "application/xml": _BINARY,
        "application/gzip": _BINARY,
    },
}


@blp.route("")
class OwnList(MethodView):
    @auth_required
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, ListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's list, most recently changed first; ``status`` filters it (Bearer)."""
        return list_service.list_entries(current_user_id(), db=get_db(), **args)


@blp.route(ANIME_ID_RULE)
class ListEntry(MethodView):
    @auth_required
    @blp.arguments(StatusInputSchema)
    @blp.response(201, ListEntrySchema, description="The anime was put on the caller's list")
    @blp.alt_response(200, schema=ListEntrySchema, description="The entry's status was set")
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="Unknown anime id")
    def put(self, body: dict[str, Any], anime_id: int) -> tuple[dict[str, Any], int]:
        """Put an anime on the caller's list with a status, or change its status (Bearer)."""
        entry, created = list_service.set_status(
            current_user_id(), anime_id, body["status"], db=get_db()
        )
        return entry, 201 if created else 200

    @auth_required
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="The anime is not on the list")
    def delete(self, anime_id: int) -> None:
        """Take an anime off the caller's list; its rating, if any, stays (Bearer)."""
        list_service.remove_from_list(current_user_id(), anime_id, db=get_db())


def _uploaded_export() -> tuple[bytes, bool]:
    """The export's bytes and whether the client called it gzip (a .gz name or content type)."""
    limit = current_app.config["IMPORT_MAX_CONTENT_LENGTH"]
    # Only this endpoint accepts more than MAX_CONTENT_LENGTH; set before the body is read.
    request.max_content_length = limit
    try:
        if request.mimetype != "multipart/form-data":
            return request.get_data(cache=False), request.mimetype in GZIP_TYPES
        upload = request.files.get(EXPORT_FIELD)
    except RequestEntityTooLarge:
        raise RequestEntityTooLarge(f"the export is larger than {limit:,} bytes") from None
    if upload is None:
        raise BadRequest(f"send the export as the file field '{EXPORT_FIELD}' or as the body")
    is_gz_name = (upload.filename or "").lower().endswith(".gz")
    return upload.read(), is_gz_name or upload.mimetype in GZIP_TYPES


@blp.route("/import")
class ListImport(MethodView):
    @auth_required
    @blp.doc(requestBody=EXPORT_BODY)
    @blp.response(200, ImportResultSchema)
    @blp.alt_response(
        400, schema=ErrorEnvelopeSchema, description="Not a readable export; nothing was written"
    )
    @blp.alt_response(413, schema=ErrorEnvelopeSchema, description="Larger than 10 MiB")
    def post(self) -> dict[str, int]:
        """Import a MyAnimeList export into the caller's ratings and list (Bearer).

        ``my_score`` 1-10 sets the rating (0: not scored, the rating stays as it is);
        ``my_status`` sets the list status. Importing the same file again changes nothing.
        """
        data, declared_gzip = _uploaded_export()
        return list_import_service.import_mal_export(
            current_user_id(), data, declared_gzip=declared_gzip, db=get_db()
        )
