"""Path converters: how ids in URLs are matched and how the OpenAPI document describes them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import BaseConverter

from app.db.common import INT64_MAX
from app.services.user_lookup import OBJECT_ID_PATTERN

# An anime id: a non-negative integer that MongoDB can store; a larger one matches no route (404).
ANIME_ID = f"int(max={INT64_MAX})"


class ObjectIdConverter(BaseConverter):
    """Any one path segment: the services parse it and answer 400 when it is malformed.

    Matching every segment keeps that 400 (a route that did not match would be a 404); the
    document still tells clients the pattern an id has.
    """


def object_id_schema(_converter: BaseConverter) -> dict[str, Any]:
    return {"type": "string", "pattern": OBJECT_ID_PATTERN}


def register_converters(app: Flask, api: Api) -> None:
    """``<objectid:name>`` in routes, documented with the ObjectId pattern."""
    app.url_map.converters["objectid"] = ObjectIdConverter
    api.register_converter(ObjectIdConverter, object_id_schema)
