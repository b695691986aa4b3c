"""One trainer per model name, shared by the training CLI and the admin training jobs.

A trainer takes a ``TrainContext`` (the fit part of the training split, the validation part
carved out of it, the run's options, the models already trained in this run and a callback for
its own progress in [0, 1]) and returns a fitted model. Every model is fitted on the same fit
part; the validation part drives NCF's early stopping and the hybrid's blend weights, so the
hybrid can reuse the components trained in the same run without having seen its validation data.
``train_models`` (ml.training.pipeline) is the entry point that runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import pandas as pd

from ml.exceptions import UnknownModelError
from ml.models import (
    BaselinePredictor,
    HybridWeightedCF,
    ItemBasedCF,
    NeuralCF,
    PopularityRecommender,
    Recommender,
    UserBasedCF,
)
from ml.models.ncf.trainer import EpochStats

ProgressFn = Callable[[str, float], None]
HYBRID_COMPONENTS = ("user_based", "item_based", "ncf")


@dataclass(frozen=True)
class TrainOptions:
    """Run-wide settings a trainer may use (None: the model's default)."""

    seed: int = 42
    epochs: int | None = None
    batch_size: int | None = None
    num_threads: int | None = None


@dataclass
class TrainContext:
    train: pd.DataFrame
    validation: pd.DataFrame | None
    options: TrainOptions = field(default_factory=TrainOptions)
    fitted: dict[str, Recommender] = field(default_factory=dict)
    report: Callable[[float], None] = lambda fraction: None


def train_baseline(ctx: TrainContext) -> Recommender:
    """mu + b_u + b_i (the reference every report includes)."""
    return BaselinePredictor().fit(ctx.train, ctx.validation)


def train_popularity(ctx: TrainContext) -> Recommender:
    """Most-rated items (the ranking reference every report includes)."""
    return PopularityRecommender().fit(ctx.train, ctx.validation)


def train_user_based(ctx: TrainContext) -> Recommender:
    return UserBasedCF().fit(ctx.train, ctx.validation)


def train_item_based(ctx: TrainContext) -> Recommender:
    return ItemBasedCF().fit(ctx.train, ctx.validation)


def ncf_settings(options: TrainOptions) -> dict[str, Any]:
    """NeuralCF constructor settings from the run options."""
    settings: dict[str, Any] = {"seed": options.seed}
    if options.epochs is not None:
        settings["epochs"] = options.epochs
    if options.batch_size is not None:
        settings["batch_size"] = options.batch_size
    if options.num_threads is not None:
        settings["num_threads"] = options.num_threads
    return settings


def train_ncf(ctx: TrainContext) -> Recommender:
    """NeuMF with early stopping on the validation part; progress per epoch."""
    model = NeuralCF(**ncf_settings(ctx.options))

    def on_epoch(stats: EpochStats) -> None:
        ctx.report(stats.epoch / stats.epochs)

    model.on_epoch = on_epoch
    return model.fit(ctx.train, ctx.validation)


def _scaled(report: Callable[[float], None], start: float, fraction: float) -> None:
    """A component's progress as a slice of the hybrid's."""
    report(start + fraction / len(HYBRID_COMPONENTS))


def train_hybrid(ctx: TrainContext) -> Recommender:
    """Blend of user-based, item-based and NCF; reuses components fitted in this run."""
    components: dict[str, Recommender] = {}
    for position, name in enumerate(HYBRID_COMPONENTS):
        model = ctx.fitted.get(name)
        if model is None:
            report = partial(_scaled, ctx.report, position / len(HYBRID_COMPONENTS))
            model = TRAINERS[name](replace(ctx, report=report))
        components[name] = model
    hybrid = HybridWeightedCF(
        user_based_model=components["user_based"],
        item_based_model=components["item_based"],
        ncf_model=components["ncf"],
        seed=ctx.options.seed,
    )
    return hybrid.fit(ctx.train, ctx.validation)


TRAINERS: dict[str, Callable[[TrainContext], Recommender]] = {
    "baseline": train_baseline,
    "popularity": train_popularity,
    "user_based": train_user_based,
    "item_based": train_item_based,
    "ncf": train_ncf,
    "hybrid": train_hybrid,
}
#: Relative cost, for the progress fraction of a run.
COST = {"baseline": 1, "popularity": 1, "user_based": 3, "item_based": 3, "ncf": 8, "hybrid": 2}
#: Trained in every run, so each report has its references beside the other numbers.
REFERENCE_MODELS = ("baseline", "popularity")
#: The CLI's --all, in training order (the hybrid last: it reuses the components).
ALL_MODELS = ("baseline", "popularity", "user_based", "item_based", "ncf", "hybrid")


def train_one(name: str, ctx: TrainContext) -> Recommender:
    """Run the trainer of ``name`` (UnknownModelError for a name without one)."""
    trainer = TRAINERS.get(name)
    if trainer is None:
        raise UnknownModelError(f"no trainer for {name!r}; known: {', '.join(TRAINERS)}")
    return trainer(ctx)


def run_order(names: list[str] | tuple[str, ...]) -> list[str]:
    """The requested models plus the references, in training order (UnknownModelError if bad)."""
    unknown = [name for name in names if name not in TRAINERS]
    if unknown:
        raise UnknownModelError(f"unknown model(s) {', '.join(unknown)}")
    wanted = set(names) | set(REFERENCE_MODELS)
    return [name for name in ALL_MODELS if name in wanted]
