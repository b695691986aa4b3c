"""One trainer per model name, shared by the training CLI and the admin training jobs.

A trainer takes a ``TrainContext`` (the fit part of the training split, the validation part
carved out of it, the run's options, the models already trained in this run and a callback for
its own progress in [0, 1]) and returns a model fitted on the fit part whose choices were made
on the validation part. ``refit`` then repeats those choices on every training row. Every model
sees the same fit part, so the hybrid reuses the components trained in the same run without
having seen its validation data. ``train_models`` (ml.training.pipeline) runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ml.exceptions import UnknownModelError
from ml.models import (
    EASE,
    MODEL_CLASSES,
    REFERENCE_MODELS,
    TRAINING_ORDER,
    BaselinePredictor,
    HybridWeightedCF,
    ItemBasedCF,
    NeuralCF,
    PopularityRecommender,
    Recommender,
    UserBasedCF,
)
from ml.models.ncf.trainer import EpochStats
from ml.models.neural_cf import NeuralCFConfig

ProgressFn = Callable[[str, float], None]
#: The hybrid's components, trained in the same run before it.
HYBRID_COMPONENTS = ("user_based", "item_based", "ncf", "ease")
#: The models each model is built on (trained before it).
DEPENDS_ON: dict[str, tuple[str, ...]] = {"hybrid": HYBRID_COMPONENTS}
#: Trained in a thread of its own beside the others (ml.training.pipeline.run_beside).
BESIDE = ("ncf",)


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
    """mu + b_u + b_i (the rating reference every report includes)."""
    return BaselinePredictor().fit(ctx.train, ctx.validation)


def train_popularity(ctx: TrainContext) -> Recommender:
    """Most-rated items (a ranking reference every report includes)."""
    return PopularityRecommender().fit(ctx.train, ctx.validation)


def train_ease(ctx: TrainContext) -> Recommender:
    """EASE^R (the strong ranking reference every report includes; a hybrid component)."""
    return EASE().fit(ctx.train, ctx.validation)


def train_user_based(ctx: TrainContext) -> Recommender:
    return UserBasedCF().fit(ctx.train, ctx.validation)


def train_item_based(ctx: TrainContext) -> Recommender:
    return ItemBasedCF().fit(ctx.train, ctx.validation)


def ncf_settings(options: TrainOptions) -> dict[str, Any]:
    """NeuralCF constructor settings from the run options."""
    settings: dict[str, Any] = {"seed": options.seed}
    if options.epochs is not None:
        settings["epochs"] = options.epochs
    if options.batch_size is not None:  # the given size on data of any size
        settings["batch_size"] = options.batch_size
        large = NeuralCFConfig().large_data
        large.pop("batch_size", None)
        settings["large_data"] = large
    if options.num_threads is not None:
        settings["num_threads"] = options.num_threads
    return settings


def train_ncf(ctx: TrainContext) -> Recommender:
    """NeuMF (ratings) and GMF (interactions), early-stopped on validation; progress per epoch."""
    model = NeuralCF(**ncf_settings(ctx.options))

    def on_epoch(stats: EpochStats) -> None:
        ctx.report(stats.epoch / stats.epochs)

    model.on_epoch = on_epoch
    return model.fit(ctx.train, ctx.validation)


def hybrid_of(components: Mapping[str, Recommender], **params: Any) -> HybridWeightedCF:
    """A hybrid over the run's components (user_based, item_based, ncf, ease)."""
    return HybridWeightedCF(
        user_based_model=components["user_based"],
        item_based_model=components["item_based"],
        ncf_model=components["ncf"],
        ease_model=components["ease"],
        **params,
    )


def train_hybrid(ctx: TrainContext) -> Recommender:
    """Rating and ranking blends of the components fitted earlier in this run."""
    hybrid = hybrid_of(ctx.fitted, seed=ctx.options.seed)
    return hybrid.fit(ctx.train, ctx.validation)


TRAINERS: dict[str, Callable[[TrainContext], Recommender]] = {
    "baseline": train_baseline,
    "popularity": train_popularity,
    "ease": train_ease,
    "user_based": train_user_based,
    "item_based": train_item_based,
    "ncf": train_ncf,
    "hybrid": train_hybrid,
}
#: Relative cost, for the progress fraction of a run.
COST = {
    "baseline": 1,
    "popularity": 1,
    "ease": 2,
    "user_based": 3,
    "item_based": 3,
    "ncf": 8,
    "hybrid": 2,
}


def train_one(name: str, ctx: TrainContext) -> Recommender:
    """Run the trainer of ``name`` (UnknownModelError for a name without one)."""
    trainer = TRAINERS.get(name)
    if trainer is None:
        raise UnknownModelError(f"no trainer for {name!r}; known: {', '.join(TRAINERS)}")
    return trainer(ctx)


def refit(
    name: str, model: Recommender, train: pd.DataFrame, refitted: Mapping[str, Recommender]
) -> Recommender:
    """``model``'s choices repeated on every training row (the hybrid over the refitted
    components, with the weights it chose)."""
    if name == "hybrid":
        return hybrid_of(refitted, **model.refit_params()).fit(train)
    return MODEL_CLASSES[model.name](**model.refit_params()).fit(train)


def run_order(names: list[str] | tuple[str, ...]) -> list[str]:
    """The requested models, the references and the hybrid's components, in training order
    (UnknownModelError if a name is unknown)."""
    unknown = [name for name in names if name not in TRAINERS]
    if unknown:
        raise UnknownModelError(f"unknown model(s) {', '.join(unknown)}")
    wanted = set(names) | set(REFERENCE_MODELS)
    if "hybrid" in wanted:
        wanted |= set(HYBRID_COMPONENTS)
    return [name for name in TRAINING_ORDER if name in wanted]
