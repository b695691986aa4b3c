"""Bodies and responses of the admin endpoints: training jobs, metrics, statistics."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.anime import GenreCountSchema
from app.schemas.common import UtcDateTime
from ml.models import SERVED_MODELS

# The longest a request may wait for a training job: well below the web server's worker timeout
# (gunicorn.conf.py), so the request ends with a JSON answer before the worker would be killed.
MAX_WAIT_SECONDS = 25


class TrainRequestSchema(Schema):
    """``{"models": [...], "test_size": 0.2, "wait": false, "timeout": 25}``."""

    models = fields.List(
        fields.String(
            validate=validate.OneOf(
                SERVED_MODELS, error=f"must be one of: {', '.join(SERVED_MODELS)}"
            )
        ),
        load_default=lambda: list(SERVED_MODELS),
        validate=validate.Length(min=1),
    )
    test_size = fields.Float(load_default=0.2, validate=validate.Range(min=0.05, max=0.5))
    epochs = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "NCF's maximum epochs (default: the model's, early stopping)"},
    )
    wait = fields.Boolean(
        load_default=False,
        metadata={"description": "Block until the job ends (or `timeout`) and answer its result"},
    )
    timeout = fields.Float(
        load_default=25.0,
        validate=validate.Range(min=1, max=MAX_WAIT_SECONDS),
        metadata={
            "description": f"Seconds to wait with `wait` (at most {MAX_WAIT_SECONDS}); a job "
            "still running then answers 202 with its state"
        },
    )


class TrainJobSchema(Schema):
    """A training job; after a ``wait`` that saw it succeed: status, job_id, version, results."""

    job_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued/running/success/failed"})
    models = fields.List(fields.String())
    test_size = fields.Float()
    epochs = fields.Integer(allow_none=True)
    progress = fields.Float(allow_none=True)
    step = fields.String(allow_none=True)
    results = fields.Dict(allow_none=True, metadata={"description": "model -> rmse, mae, ..."})
    version = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = UtcDateTime(allow_none=True)
    started_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    heartbeat_at = UtcDateTime(allow_none=True)


class MetricsSchema(Schema):
    metrics = fields.Dict(
        keys=fields.String(), values=fields.Dict(), required=True,
        metadata={"description": "model -> its newest metrics (rmse, mae, precision_at_k...)"},
    )  # fmt: skip
    references = fields.Dict(
        keys=fields.String(), values=fields.Dict(), required=True,
        metadata={
            "description": "baseline, popularity (most rated) and EASE^R, trained and evaluated "
            "on the same split in every run: what the models' figures stand beside"
        },
    )  # fmt: skip
    last_trained = UtcDateTime(allow_none=True)
    history = fields.List(fields.Dict(), required=True)
    jobs = fields.List(fields.Nested(TrainJobSchema), required=True)
    serving = fields.Dict(required=True, metadata={"description": "This worker's model registry"})


class MostRatedSchema(Schema):
    anime_id = fields.Integer(required=True)
    name = fields.String(allow_none=True)
    ratings = fields.Integer(required=True)


class StatsSchema(Schema):
    users = fields.Integer(required=True)
    anime = fields.Integer(required=True)
    ratings = fields.Integer(required=True)
    rating_distribution = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    top_genres = fields.List(fields.Nested(GenreCountSchema), required=True)
    most_rated_anime = fields.List(fields.Nested(MostRatedSchema), required=True)
    computed_at = UtcDateTime(required=True)
