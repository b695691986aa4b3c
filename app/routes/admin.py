"""Training, metrics and statistics (admins only)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from app.db import get_db
from app.extensions import Blueprint
from app.schemas.admin import MetricsSchema, StatsSchema, TrainJobSchema, TrainRequestSchema
from app.schemas.common import ErrorEnvelopeSchema
from app.schemas.similar import SearchIndexUpdateResultSchema, SearchIndexUpdateSchema
from app.security import admin_required, current_user_id
from app.services import admin_service, semantic_search_service, training_jobs

blp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    description="Training, metrics and statistics (admins only)",
)


@blp.route("/train")
class Train(MethodView):
    @admin_required
    @blp.arguments(TrainRequestSchema, location="json")
    @blp.response(202, TrainJobSchema)
    @blp.alt_response(200, schema=TrainJobSchema, description="With `wait`: the finished run")
    @blp.alt_response(409, schema=ErrorEnvelopeSchema, description="A training job is running")
    @blp.alt_response(500, schema=ErrorEnvelopeSchema, description="With `wait`: the job failed")
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Train models in a separate process (admin); 202 with the job to poll.

        One job at a time. With ``"wait": true`` the call blocks until the job ends (at most
        ``timeout`` seconds) and answers ``{status: "success", results: {model: {rmse, ...}}}``.
        Every worker serves the new models within seconds of the job's end.
        """
        result = training_jobs.request_training(
            body["models"],
            body["test_size"],
            wait=body["wait"],
            timeout=body["timeout"],
            epochs=body["epochs"],
            db=get_db(),
            launcher=current_app.extensions["training_launcher"],
            stale_after=current_app.config["TRAINING_STALE_SECONDS"],
            requested_by=current_user_id(),
        )
        return result, 200 if result["status"] == training_jobs.SUCCESS else 202


@blp.route("/train/<objectid:job_id>")
class TrainJob(MethodView):
    @admin_required
    @blp.response(200, TrainJobSchema)
    @blp.alt_response(404, schema=ErrorEnvelopeSchema, description="No such job")
    def get(self, job_id: str) -> dict[str, Any]:
        """A training job's status, progress, current step, results or error (admin)."""
        return training_jobs.get_job(
            job_id, db=get_db(), stale_after=current_app.config["TRAINING_STALE_SECONDS"]
        )


@blp.route("/metrics")
class Metrics(MethodView):
    @admin_required
    @blp.response(200, MetricsSchema)
    def get(self) -> dict[str, Any]:
        """Latest metrics per model, history of runs and jobs, models served (admin)."""
        return admin_service.get_metrics(
            db=get_db(), registry=current_app.extensions["model_registry"]
        )


@blp.route("/stats")
class Stats(MethodView):
    @admin_required
    @blp.response(200, StatsSchema)
    def get(self) -> dict[str, Any]:
        """Users, anime, ratings, rating distribution, top genres, most rated (admin, cached)."""
        return admin_service.get_stats(db=get_db(), cache=current_app.extensions["stats_cache"])


@blp.route("/search-index/update")
class SearchIndexUpdate(MethodView):
    @admin_required
    @blp.arguments(SearchIndexUpdateSchema, location="json")
    @blp.response(200, SearchIndexUpdateResultSchema)
    @blp.alt_response(409, schema=ErrorEnvelopeSchema, description="Too many changes: rebuild")
    @blp.alt_response(503, schema=ErrorEnvelopeSchema, description="Index not built")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Re-encode anime added or changed since the index was built (admin).

        Without ``anime_ids`` every anime whose name, genres, type or synopsis differs from the
        indexed text is re-encoded; every worker picks the updated index up on its next query.
        """
        return semantic_search_service.update_search_index(
            db=get_db(),
            index=current_app.extensions.get("search_index"),
            anime_ids=body.get("anime_ids"),
        )
