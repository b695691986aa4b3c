"""NeuralCF: the NeuMF network behind the Recommender contract (id mapping, fallback, persistence).

The wrapper maps raw ids to indices (ml.data.Vocabulary, done by the base class), trains the
network with ml.models._ncf_trainer (early stopping on a validation split carved out of the
training ratings when none is given, best epoch restored) and scores in torch no_grad.
Saved as neural_cf.pt (a state_dict, loaded with weights_only=True) + ncf_config.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ml.data import RatingsData
from ml.exceptions import DataError, NotFittedError
from ml.models._ncf_net import NeuMF
from ml.models._ncf_trainer import (
    Batch,
    EpochStats,
    NCFTrainer,
    TrainerConfig,
    TrainHistory,
    count_parameters,
    tensors,
    torch_threads,
)
from ml.models.base import Recommender

WEIGHTS_FILE = "neural_cf.pt"
CONFIG_FILE = "ncf_config.json"
SCORE_BATCH = 65_536


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
    l2: float = 0.0
    patience: int = 3
    lr_decay: float = 0.8
    validation_fraction: float = 0.1
    baseline_init: bool = True
    seed: int = 42
    num_threads: int | None = None

    def trainer_config(self) -> TrainerConfig:
        return TrainerConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            l2=self.l2,
            patience=self.patience,
            lr_decay=self.lr_decay,
            seed=self.seed,
            num_threads=self.num_threads,
        )


class NeuralCF(Recommender):
    """Neural collaborative filtering (NeuMF: GMF + MLP towers, user/item biases).

    r_hat(u, i) = r_min + (r_max - r_min) * sigmoid(w . [p_u * q_i ; MLP(p'_u ; q'_i)]
    + b + b_u + b_i); unknown users or items get the base class's baseline answer.
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
        self.net: NeuMF | None = None
        self.history: TrainHistory | None = None
        self.on_epoch: Callable[[EpochStats], None] | None = None

    def get_params(self) -> dict[str, Any]:
        return asdict(self.config)

    # ----------------------------------------------------------------- training
    def _fit(self, data: RatingsData, validation: pd.DataFrame | None) -> None:
        users = data.user_idx.astype(np.int64)
        items = data.item_idx.astype(np.int64)
        ratings = data.rating
        if validation is not None:
            val_u, val_i, val_r = self.encode(validation)
            known = (val_u >= 0) & (val_i >= 0)  # pairs the net can score
            val: Batch | None = (
                tensors(val_u[known], val_i[known], val_r[known]) if known.any() else None
            )
            train = tensors(users, items, ratings)
        else:
            train, val = self._carve_validation(users, items, ratings)
        torch.manual_seed(self.config.seed)
        self.net = self._build_net(data.n_users, data.n_items, data)
        biases = self._check_fitted()[2]
        if self.config.baseline_init:
            self.net.warm_start_biases(torch.from_numpy(biases.bu), torch.from_numpy(biases.bi))
        trainer = NCFTrainer(self.net, self.config.trainer_config())
        self.history = trainer.fit(train, val, on_epoch=self.on_epoch)

    def _carve_validation(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray
    ) -> tuple[Batch, Batch | None]:
        """A seeded random ``validation_fraction`` of the training ratings for early stopping."""
        n_val = math.ceil(self.config.validation_fraction * len(ratings))
        if n_val <= 0 or n_val >= len(ratings):
            return tensors(users, items, ratings), None
        order = np.random.RandomState(self.config.seed).permutation(len(ratings))
        fit_rows, val_rows = order[n_val:], order[:n_val]
        return (
            tensors(users[fit_rows], items[fit_rows], ratings[fit_rows]),
            tensors(users[val_rows], items[val_rows], ratings[val_rows]),
        )

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
            )
        return summary

    # ----------------------------------------------------------------- persistence
    def _save_state(self, path: Path) -> None:
        net = self._model()
        torch.save(net.state_dict(), path / WEIGHTS_FILE)
        state = {
            "n_users": net.gmf_user.num_embeddings,
            "n_items": net.gmf_item.num_embeddings,
            "training": self.training_summary(),
        }
        (path / CONFIG_FILE).write_text(json.dumps(state, indent=2))

    def _load_state(self, path: Path) -> None:
        state = json.loads((path / CONFIG_FILE).read_text())
        net = self._build_net(int(state["n_users"]), int(state["n_items"]))
        weights = torch.load(path / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        net.load_state_dict(weights)
        net.eval()
        self.net = net
        training = state.get("training", {})
        if "train_rmse" in training:
            self.history = TrainHistory(
                train_rmse=list(training["train_rmse"]),
                val_rmse=list(training.get("val_rmse", [])),
                best_epoch=int(training.get("best_epoch", 0)),
                stopped_early=bool(training.get("stopped_early", False)),
            )
