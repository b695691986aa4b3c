"""GET /health: liveness and database reachability."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from app.db import get_db
from app.extensions import Blueprint
from app.schemas.common import ErrorEnvelopeSchema
from app.services.health_service import check_health

blp = Blueprint("health", __name__, url_prefix="/", description="Service health")


class HealthSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    models = fields.Dict(
        metadata={"description": "Model version served by this worker, its models, last load error"}
    )


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(
        503, schema=ErrorEnvelopeSchema, description="The database is unreachable; see `error`"
    )
    def get(self) -> dict:
        """Report whether the API and its database answer."""
        return check_health(db=get_db(), registry=current_app.extensions.get("model_registry"))
