"""NeuralCF: NeuMF behind the Recommender contract, with a rating head and a ranking head.

The rating head is NeuMF (GMF + MLP) on explicit ratings, trained by ml.models.ncf.trainer with
early stopping on a validation split (carved out of the training ratings when none is given, best
epoch restored): it makes ``predict``. The ranking head is GMF on interactions (rated or watched)
with sampled negatives (He et al. 2017; ml.models.ncf.interactions), early-stopped on validation
NDCG@10: it makes the interaction score of ``recommend``, times the like factor of the rating
head's prediction (ml.models.ranking). Saved as neural_cf.pt and ncf_interactions.pt
(state_dicts, loaded with weights_only=True) + ncf_config.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ml.data import RatingsData
from ml.exceptions import DataError, NotFittedError
from ml.metrics import relevance_threshold
from ml.models.base import Recommender
from ml.models.ncf.fold_in import fold_in_rating_rows, rate_items, starting_rows
from ml.models.ncf.grid import GridScorer, factorable, matches_forward
from ml.models.ncf.interactions import (
    InteractionConfig,
    InteractionGMF,
    fold_in_user,
    train_interactions,
)
from ml.models.ncf.net import NeuMF
from ml.models.ncf.trainer import (
    Batch,
    EpochStats,
    NCFTrainer,
    TrainerConfig,
    TrainHistory,
    carve,
    count_parameters,
    tensors,
    torch_threads,
)
from ml.models.ranking import ValidationTargets, targets_from_pairs
from ml.splits import holdout_mask

WEIGHTS_FILE = "neural_cf.pt"
INTERACTIONS_FILE = "ncf_interactions.pt"
CONFIG_FILE = "ncf_config.json"
SCORE_BATCH = 65_536
#: Up to this many ratings, fitting tries every ``l2_grid`` value and, after early stopping on a
#: carve-out, retrains on every rating (cheap on small data, where both matter most).
SMALL_DATA_RATINGS = 2_000_000
#: Users per pass of the batched scorer (the widest hidden layer is users x items x width).
GRID_USERS = 1


@dataclass
class NeuralCFConfig:
    """Architecture and optimisation settings (JSON-serialisable; the saved model's params)."""

    embedding_dim: int = 64
    hidden_layers: list[int] = field(default_factory=lambda: [128, 64, 32])
    dropout: float = 0.2
    epochs: int = 20
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 1e-5
    #: L2 on the factor rows a batch touches, in units of the rating variance (see
    #: trainer_config); row i's term scaled by (n_i / mean n)^-reg_exponent (rare rows harder).
    #: Used as is above SMALL_DATA_RATINGS (no grid there): 0, early stopping regularises (on
    #: 900k synthetic ratings any L2 >= 0.02 kept the factors at 0, validation = baseline's).
    l2: float = 0.0
    reg_exponent: float = 0.5
    patience: int = 5
    lr_decay: float = 0.9
    validation_fraction: float = 0.1
    baseline_init: bool = True
    output: str = "linear"
    seed: int = 42
    num_threads: int | None = None
    #: L2 values tried on small data, the best validation RMSE kept (else ``l2`` alone).
    l2_grid: list[float] = field(default_factory=lambda: [0.05, 0.1])
    #: After early stopping on a carve-out, retrain on every rating for the best epoch count;
    #: None: only up to SMALL_DATA_RATINGS ratings.
    refit: bool | None = None
    #: Ranking head: GMF size, most epochs (early stopping on validation NDCG when a validation
    #: set is given or carved), sampled negatives per interaction, Adam lr, L2 on touched rows.
    rank_dim: int = 64
    rank_epochs: int = 20
    rank_negatives: int = 8
    rank_lr: float = 2e-3
    rank_l2: float = 1e-5
    rank_batch_size: int = 1024
    rank_patience: int = 3
    #: Like factor temperature of the ranking (fraction of the scale's span; None: off).
    like_temperature: float | None = 0.1
    #: Settings that replace the ones above on more than SMALL_DATA_RATINGS ratings, where an
    #: epoch costs minutes: larger mini-batches, fewer sampled negatives, stop at the first
    #: epoch without progress (measured on 6.34 M synthetic ratings, BENCHMARKS.md).
    large_data: dict[str, Any] = field(
        default_factory=lambda: {
            "batch_size": 4096,
            "rank_batch_size": 8192,
            "rank_negatives": 4,
            "patience": 1,
            "rank_patience": 1,
        }
    )

    def for_ratings(self, n_ratings: int) -> NeuralCFConfig:
        """The settings used on ``n_ratings`` ratings (``large_data`` applied above
        SMALL_DATA_RATINGS)."""
        if n_ratings <= SMALL_DATA_RATINGS:
            return self
        return replace(self, **self.large_data)

    def interaction_config(self) -> InteractionConfig:
        """Training settings of the ranking head."""
        return InteractionConfig(
            dim=self.rank_dim,
            epochs=self.rank_epochs,
            batch_size=self.rank_batch_size,
            lr=self.rank_lr,
            negatives=self.rank_negatives,
            l2=self.rank_l2,
            patience=self.rank_patience,
            seed=self.seed,
            num_threads=self.num_threads,
        )

    def trainer_config(self, rating_variance: float, span: float) -> TrainerConfig:
        """Trainer settings; ``l2`` is in units of the rating variance (the trainer's MSE is on
        the scale normalised by ``span``), so one default suits 1-5 and 1-10 data alike."""
        return TrainerConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            l2=self.l2 * rating_variance / span**2,
            reg_exponent=self.reg_exponent,
            patience=self.patience,
            lr_decay=self.lr_decay,
            seed=self.seed,
            num_threads=self.num_threads,
        )


class NeuralCF(Recommender):
    """Neural collaborative filtering (NeuMF: GMF + MLP towers, user/item biases).

    r_hat(u, i) = clamp(w . [p_u * q_i ; MLP(p'_u ; q'_i)] + b + b_u + b_i, r_min, r_max)
    (output="linear"; "sigmoid" maps the logit through a scaled sigmoid instead); unknown users
    or items get the base class's baseline answer. On up to SMALL_DATA_RATINGS ratings, fit
    keeps the best of ``l2_grid`` on the validation split and, when it carved that split out
    itself, retrains on every rating for the best epoch count. Defaults were chosen on
    validation carve-outs of the anime sample's and MovieLens 100K's training rows.
    Set ``on_epoch`` to a callable to observe training progress (EpochStats per epoch).
    """

    name = "ncf"
    _score_chunk = SCORE_BATCH

    def __init__(
        self,
        n_users: int | None = None,
        n_items: int | None = None,
        embedding_dim: int = 64,
        hidden_layers: Sequence[int] = (128, 64, 32),
        **settings: Any,
    ) -> None:
        super().__init__()
        self.n_users = n_users
        self.n_items = n_items
        self.config = NeuralCFConfig(
            embedding_dim=int(embedding_dim), hidden_layers=[int(h) for h in hidden_layers]
        )
        for key, value in settings.items():
            if not hasattr(self.config, key):
                raise TypeError(f"NeuralCF got an unexpected setting {key!r}")
            setattr(self.config, key, value)
        self.like_temperature = self.config.like_temperature
        self.net: NeuMF | None = None
        self.rank_net: InteractionGMF | None = None
        self.history: TrainHistory | None = None
        self.rank_epochs_used = 0
        self.refitted = False
        self.l2_used = self.config.l2
        self.l2_scores: dict[float, float] = {}
        self.on_epoch: Callable[[EpochStats], None] | None = None
        self._item_side: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def get_params(self) -> dict[str, Any]:
        return asdict(replace(self.config, like_temperature=self.like_temperature))

    def refit_params(self) -> dict[str, Any]:
        """The chosen epochs (both heads), L2 and temperature, trained without a carve-out."""
        epochs = self.history.best_epoch if self.history and self.history.best_epoch else None
        chosen = replace(
            self.config,
            epochs=epochs or self.config.epochs,
            rank_epochs=self.rank_epochs_used or self.config.rank_epochs,
            l2=self.l2_used,
            l2_grid=[],
            validation_fraction=0.0,
            refit=False,
            like_temperature=self.like_temperature,
        )
        return asdict(chosen)

    # ----------------------------------------------------------------- training
    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        self.config = self.config.for_ratings(len(data.rating))
        users = data.user_idx.astype(np.int64)
        items = data.item_idx.astype(np.int64)
        ratings = data.rating
        everything = tensors(users, items, ratings)
        if validation is not None:
            val_u, val_i, val_r = self.encode(validation)
            known = (val_u >= 0) & (val_i >= 0)  # pairs the net can score
            val: Batch | None = (
                tensors(val_u[known], val_i[known], val_r[known]) if known.any() else None
            )
            train = everything
        else:
            cfg = self.config
            train, val = carve(users, items, ratings, cfg.validation_fraction, cfg.seed)
        small = len(ratings) <= SMALL_DATA_RATINGS
        grid = self.config.l2_grid if small and val is not None else []
        self._fit_best_l2(data, train, val, grid or [self.config.l2])
        refit = small if self.config.refit is None else self.config.refit
        self.refitted = bool(validation is None and val is not None and refit)
        if self.refitted and self.history is not None and self.history.best_epoch:
            self._train(data, everything, None, self.l2_used, self.history.best_epoch, None)
        self._fit_ranking_head(data, validation, refit)

    def _fit_ranking_head(
        self, data: RatingsData, validation: pd.DataFrame | None, refit: bool
    ) -> None:
        """GMF on every interaction, early-stopped on validation NDCG@10 (the given validation
        set, else a per-user carve-out of the ratings, then retrained on all when ``refit``)."""
        interactions = data.interactions().tocoo()
        users, items = interactions.row.astype(np.int64), interactions.col.astype(np.int64)
        config = self.config.interaction_config()
        if validation is not None:
            targets = self.validation_targets(validation)
            self.rank_epochs_used = self._train_ranking(users, items, config, targets)
            return
        fraction = self.config.validation_fraction
        if fraction <= 0:
            self.rank_epochs_used = self._train_ranking(users, items, config, None)
            return
        held = holdout_mask(data.user_idx, fraction, self.config.seed)
        threshold = relevance_threshold(self.rating_min, self.rating_max)
        relevant = held & (data.rating >= threshold)
        targets = targets_from_pairs(
            data.user_idx[relevant], data.item_idx[relevant], data.n_items, self.config.seed
        )
        keep = _without_pairs(users, items, data.user_idx[held], data.item_idx[held], data.n_items)
        seen = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (users[keep], items[keep])),
            shape=(data.n_users, data.n_items),
        )[targets.users]
        best = self._train_ranking(users[keep], items[keep], config, targets, seen)
        if refit and best:
            self._train_ranking(users, items, replace(config, epochs=best), None)
        self.rank_epochs_used = best

    def _train_ranking(
        self,
        users: np.ndarray,
        items: np.ndarray,
        config: InteractionConfig,
        targets: ValidationTargets | None,
        seen: sp.csr_matrix | None = None,
    ) -> int:
        """A fresh ranking head trained on (users, items), early-stopped on ``targets`` (their
        ``seen`` interactions left out of the lists); returns the epochs kept."""
        torch.manual_seed(config.seed)
        self.rank_net = InteractionGMF(len(self._check_fitted()[0]), len(self.items), config.dim)
        self._item_side = None
        validate = None
        if targets is not None and len(targets):

            def validate() -> float:
                self._item_side = None
                return self._validation_ndcg(targets, [None], seen)[None]

        history = train_interactions(self.rank_net, users, items, config, validate)
        self._item_side = None
        return history.best_epoch

    def _fit_best_l2(
        self, data: RatingsData, train: Batch, val: Batch | None, grid: list[float]
    ) -> None:
        """Train one net per L2 value; keep the one with the best validation RMSE."""
        best: tuple[float, NeuMF, TrainHistory, float] | None = None
        self.l2_scores = {}
        epochs = self.config.epochs
        for position, l2 in enumerate(grid):
            history = self._train(data, train, val, l2, epochs, self._progress(position, grid))
            score = history.best_val_rmse if history.best_val_rmse is not None else math.inf
            self.l2_scores[l2] = score
            if best is None or score < best[0]:
                best = (score, self._model(), history, l2)
        assert best is not None
        _, self.net, self.history, self.l2_used = best

    def _progress(self, position: int, grid: list[float]) -> Callable[[EpochStats], None] | None:
        """``on_epoch`` for the grid's ``position``-th net, epochs counted across the grid."""
        report, epochs = self.on_epoch, self.config.epochs
        if report is None:
            return None
        total = epochs * len(grid)
        return lambda s: report(replace(s, epoch=position * epochs + s.epoch, epochs=total))

    def _train(
        self,
        data: RatingsData,
        train: Batch,
        val: Batch | None,
        l2: float,
        epochs: int,
        on_epoch: Callable[[EpochStats], None] | None,
    ) -> TrainHistory:
        """A fresh net (baseline-initialised biases) trained for up to ``epochs``."""
        torch.manual_seed(self.config.seed)
        self.net = self._build_net(data.n_users, data.n_items, data)
        biases = self._check_fitted()[2]
        if self.config.baseline_init:
            self.net.warm_start_biases(torch.from_numpy(biases.bu), torch.from_numpy(biases.bi))
        variance = float(np.var(data.rating)) or 1.0
        config = replace(self.config, l2=l2).trainer_config(variance, self.net.rating_span)
        config = replace(config, epochs=epochs)
        return NCFTrainer(self.net, config).fit(train, val, on_epoch=on_epoch)

    def _build_net(self, n_users: int, n_items: int, data: RatingsData | None = None) -> NeuMF:
        return NeuMF(
            n_users,
            n_items,
            self.config.embedding_dim,
            self.config.hidden_layers,
            dropout=self.config.dropout,
            rating_min=self.rating_min,
            rating_max=self.rating_max,
            global_mean=data.global_mean if data is not None else None,
            output=self.config.output,
        )

    def train(self, train_loader: Iterable[Any], epochs: int = 10) -> TrainHistory:
        """Seed-style training on a loader of (user_idx, item_idx, rating) batches.

        The indices are taken as the raw ids (so ``predict(3, 7)`` means index 3 and 7); the
        batches are gathered once and fitted like ``fit`` (validation carve-out included).
        """
        parts = [[np.asarray(column) for column in batch] for batch in train_loader]
        if not parts:
            raise DataError("the training loader yielded no batches")
        users, items, ratings = (np.concatenate(column) for column in zip(*parts, strict=True))
        for count, values, label in ((self.n_users, users, "user"), (self.n_items, items, "item")):
            if count is not None and (values.min() < 0 or values.max() >= count):
                raise DataError(f"{label} indices must lie in [0, {count})")
        self.config.epochs = int(epochs)
        self.fit(pd.DataFrame({"user_id": users, "anime_id": items, "rating": ratings}))
        if self.history is None:
            raise NotFittedError("NeuralCF training produced no history")
        return self.history

    # ----------------------------------------------------------------- scoring
    def _model(self) -> NeuMF:
        if self.net is None:
            raise NotFittedError("NeuralCF is not fitted")
        return self.net

    @torch.no_grad()
    def _score(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        net = self._model()
        net.eval()
        users = torch.from_numpy(np.asarray(user_idx, dtype=np.int64))
        items = torch.from_numpy(np.asarray(item_idx, dtype=np.int64))
        with torch_threads(self.config.num_threads):  # see _ncf_trainer.DEFAULT_THREADS
            return net(users, items).double().numpy()

    def _score_user(self, user_idx: int) -> np.ndarray:
        n_items = len(self.items)
        if user_idx < 0:
            return np.full(n_items, np.nan)
        return self._score(np.full(n_items, user_idx, dtype=np.int64), np.arange(n_items))

    @torch.no_grad()
    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Batched `_score_user` by `_ncf_grid.GridScorer` (plain forward if the net differs)."""
        net = self._model()
        net.eval()
        n_items = len(self.items)
        out = np.full((len(user_idx), n_items), np.nan)
        known = np.flatnonzero(user_idx >= 0)
        if not len(known):
            return out
        with torch_threads(self.config.num_threads):
            if not (factorable(net) and matches_forward(net, int(user_idx[known[0]]), n_items)):
                return super()._score_users(user_idx)
            grid = GridScorer(net, torch.arange(n_items))
            for start in range(0, len(known), GRID_USERS):
                rows = known[start : start + GRID_USERS]
                users = torch.from_numpy(user_idx[rows].astype(np.int64))
                out[rows] = grid(users).double().numpy()
        return out

    # ----------------------------------------------------------------- ranking head
    def _ranking_side(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(z = h * q per item, b per item, z^T z, p per user) of the ranking head, float64."""
        if self.rank_net is None:
            raise NotFittedError("NeuralCF is not fitted")
        if self._item_side is None:
            features, bias = self.rank_net.item_side()
            self._item_side = (features, bias, features.T @ features, self.rank_net.user_vectors())
        return self._item_side

    def _interaction_scores(self, user_idx: np.ndarray) -> np.ndarray | None:
        features, bias, _, vectors = self._ranking_side()
        out = np.empty((len(user_idx), len(bias)))
        for row, user in enumerate(np.asarray(user_idx).tolist()):
            out[row] = _sigmoid(features @ vectors[user] + bias)
        return out

    def _fold_in_interaction_scores(
        self, rows: sp.csr_matrix, user_idx: np.ndarray
    ) -> np.ndarray | None:
        features, bias, gram, vectors = self._ranking_side()
        out = np.empty((rows.shape[0], len(bias)))
        config = self.config
        for row in range(rows.shape[0]):
            user = int(user_idx[row])
            vector = fold_in_user(
                features,
                bias,
                gram,
                rows[row].indices,
                negatives=config.rank_negatives,
                l2=config.rank_l2,
                start=vectors[user] if user >= 0 else None,
            )
            out[row] = _sigmoid(features @ vector + bias)
        return out

    @torch.no_grad()
    def _ratings_at(self, user_idx: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """The rating head's predictions of each user's candidates, one user at a time (the
        same computation for one user and for a batch); NaN for unknown users."""
        net = self._model()
        net.eval()
        out = np.full(candidates.shape, np.nan)
        with torch_threads(self.config.num_threads):
            for row, user in enumerate(np.asarray(user_idx).tolist()):
                valid = candidates[row] >= 0
                if user < 0 or not valid.any():
                    continue
                items = torch.from_numpy(candidates[row][valid].astype(np.int64))
                users = torch.full((len(items),), user, dtype=torch.int64)
                out[row, valid] = net(users, items).double().numpy()
        return out

    def _fold_in_ratings(
        self, rated: np.ndarray, values: np.ndarray, user_idx: int
    ) -> np.ndarray | None:
        net = self._model()
        with torch_threads(self.config.num_threads):
            start = starting_rows(net, user_idx)
            rows = fold_in_rating_rows(net, rated, values, start, self.l2_used or self.config.l2)
            return rate_items(net, rows, np.arange(len(self.items)))

    def training_summary(self) -> dict[str, Any]:
        """Best epoch, epochs run, validation RMSE and parameter count (for manifests)."""
        history, net = self.history, self._model()
        summary: dict[str, Any] = {"n_parameters": count_parameters(net)}
        if history is not None:
            summary.update(
                epochs_run=len(history.train_rmse),
                best_epoch=history.best_epoch,
                stopped_early=history.stopped_early,
                best_val_rmse=history.best_val_rmse,
                train_rmse=history.train_rmse,
                val_rmse=history.val_rmse,
                refitted_on_all=self.refitted,
                l2=self.l2_used,
                l2_grid_val_rmse={str(k): v for k, v in self.l2_scores.items() if math.isfinite(v)},
            )
        return summary

    # ----------------------------------------------------------------- persistence
    def _save_state(self, path: Path) -> None:
        net = self._model()
        if self.rank_net is None:
            raise NotFittedError("NeuralCF is not fitted")
        torch.save(net.state_dict(), path / WEIGHTS_FILE)
        torch.save(self.rank_net.state_dict(), path / INTERACTIONS_FILE)
        state = {
            "n_users": net.gmf_user.num_embeddings,
            "n_items": net.gmf_item.num_embeddings,
            "output": net.output,
            "rank_epochs": self.rank_epochs_used,
            "training": self.training_summary(),
        }
        (path / CONFIG_FILE).write_text(json.dumps(state, indent=2))

    def _load_state(self, path: Path) -> None:
        state = json.loads((path / CONFIG_FILE).read_text())
        self.config.output = str(state.get("output", "sigmoid"))  # older files: sigmoid
        net = self._build_net(int(state["n_users"]), int(state["n_items"]))
        weights = torch.load(path / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        net.load_state_dict(weights)
        net.eval()
        self.net = net
        rank_net = InteractionGMF(
            int(state["n_users"]), int(state["n_items"]), self.config.rank_dim
        )
        rank_weights = torch.load(path / INTERACTIONS_FILE, map_location="cpu", weights_only=True)
        rank_net.load_state_dict(rank_weights)
        rank_net.eval()
        self.rank_net, self._item_side = rank_net, None
        self.rank_epochs_used = int(state.get("rank_epochs", 0))
        training = state.get("training", {})
        self.refitted = bool(training.get("refitted_on_all", False))
        self.l2_used = float(training.get("l2", self.config.l2))
        if "train_rmse" in training:
            self.history = TrainHistory(
                train_rmse=list(training["train_rmse"]),
                val_rmse=list(training.get("val_rmse", [])),
                best_epoch=int(training.get("best_epoch", 0)),
                stopped_early=bool(training.get("stopped_early", False)),
            )


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _without_pairs(
    users: np.ndarray, items: np.ndarray, drop_users: np.ndarray, drop_items: np.ndarray, n: int
) -> np.ndarray:
    """True for the (users, items) pairs not among the dropped pairs."""
    keys = users.astype(np.int64) * n + items
    dropped = drop_users.astype(np.int64) * n + drop_items
    return ~np.isin(keys, dropped)
