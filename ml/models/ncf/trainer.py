"""Training loop for NeuMF: mini-batches, Adam on MSE, early stopping with best-epoch restore.

The loss is the mean squared error on the rating scale normalised to [0, 1] plus ``l2`` times the
squared norm of the embedding rows in the batch, each row's term scaled by
(n_row / mean n)^-reg_exponent (rarely rated rows regularised harder). Embedding tables are
sparse and updated with SparseAdam (only the rows a batch touches), dense layers with Adam and
``weight_decay``: at 70k users a dense Adam step over every table row would dominate the epoch
time.
Early stopping watches the validation RMSE (a split carved out of the training data by the
caller, never the test set); the weights of the best epoch are restored at the end.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ml.models.ncf.net import NeuMF

log = logging.getLogger(__name__)

EVAL_BATCH = 65_536
#: NeuMF's matmuls are small (batch x 128): a second intra-op thread gains little on an idle
#: 2-core machine and, measured with the cores shared by other processes (web workers, other
#: jobs), made an epoch 10x slower from spin-waiting. Raise num_threads on a dedicated machine.
DEFAULT_THREADS = 1
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class TrainerConfig:
    """Optimisation settings; ``num_threads`` None means ``DEFAULT_THREADS``."""

    epochs: int = 20
    batch_size: int = 1024
    lr: float = 2e-3
    weight_decay: float = 1e-5
    l2: float = 1e-4
    #: Row i's L2 term is scaled by (n_i / mean n)^-reg_exponent, n_i its training ratings.
    reg_exponent: float = 0.0
    patience: int = 3
    lr_decay: float = 1.0
    seed: int = 42
    num_threads: int | None = None


@dataclass(frozen=True)
class EpochStats:
    epoch: int
    epochs: int
    train_rmse: float
    val_rmse: float | None


@dataclass
class TrainHistory:
    """Per-epoch RMSEs (rating scale), the restored epoch (1-based) and whether training stopped."""

    train_rmse: list[float] = field(default_factory=list)
    val_rmse: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    @property
    def best_val_rmse(self) -> float | None:
        return self.val_rmse[self.best_epoch - 1] if self.val_rmse and self.best_epoch else None


def default_threads() -> int:
    """One intra-op thread (see DEFAULT_THREADS); never more than the machine has."""
    return max(1, min(DEFAULT_THREADS, os.cpu_count() or 1))


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads, restoring the previous setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count or default_threads())
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def tensors(users: object, items: object, ratings: object) -> Batch:
    """Index arrays and ratings as the (int64, int64, float32) tensors the net takes."""
    return (
        torch.from_numpy(np.array(users, dtype=np.int64)),
        torch.from_numpy(np.array(items, dtype=np.int64)),
        torch.from_numpy(np.array(ratings, dtype=np.float32)),
    )


def carve(
    users: np.ndarray, items: np.ndarray, ratings: np.ndarray, fraction: float, seed: int
) -> tuple[Batch, Batch | None]:
    """(fit part, validation part) of index arrays: a seeded random ``fraction`` held out for
    early stopping; no validation part when it would be empty or everything."""
    n_val = math.ceil(fraction * len(ratings))
    if n_val <= 0 or n_val >= len(ratings):
        return tensors(users, items, ratings), None
    order = np.random.RandomState(seed).permutation(len(ratings))
    fit_rows, val_rows = order[n_val:], order[:n_val]
    return (
        tensors(users[fit_rows], items[fit_rows], ratings[fit_rows]),
        tensors(users[val_rows], items[val_rows], ratings[val_rows]),
    )


def shuffled_batches(data: Batch, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
    """One epoch of seeded shuffled mini-batches (plain slicing: far cheaper than a DataLoader)."""
    order = torch.randperm(len(data[0]), generator=generator)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        yield data[0][index], data[1][index], data[2][index]


@torch.no_grad()
def rmse(net: NeuMF, data: Batch) -> float:
    """RMSE of ``net`` on ``data`` on the rating scale (eval mode, batched)."""
    was_training = net.training
    net.eval()
    squared = 0.0
    for start in range(0, len(data[0]), EVAL_BATCH):
        chunk = slice(start, start + EVAL_BATCH)
        error = net(data[0][chunk], data[1][chunk]) - data[2][chunk]
        squared += float(error.double().pow(2).sum())
    net.train(was_training)
    return math.sqrt(squared / max(len(data[0]), 1))


class NCFTrainer:
    """Fits a NeuMF in place; ``fit`` for index tensors, ``fit_batches`` for a DataLoader."""

    def __init__(self, net: NeuMF, config: TrainerConfig | None = None) -> None:
        self.net = net
        self.config = config or TrainerConfig()
        sparse = [table.weight for table in net.embedding_tables() if table.sparse]
        sparse_ids = {id(param) for param in sparse}
        dense = [param for param in net.parameters() if id(param) not in sparse_ids]
        cfg = self.config
        self.row_weights: tuple[torch.Tensor, torch.Tensor] | None = None
        self.optimizers: list[torch.optim.Optimizer] = [
            torch.optim.Adam(dense, lr=cfg.lr, weight_decay=cfg.weight_decay)
        ]
        if sparse:
            self.optimizers.append(torch.optim.SparseAdam(sparse, lr=cfg.lr))

    def fit(
        self,
        train: Batch,
        validation: Batch | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
    ) -> TrainHistory:
        """Train on index tensors for up to ``epochs``; early-stop on ``validation`` RMSE."""
        generator = torch.Generator().manual_seed(self.config.seed)
        self.row_weights = self._row_weights(train[0], train[1])
        return self._run(
            lambda: shuffled_batches(train, self.config.batch_size, generator),
            validation,
            on_epoch,
        )

    def fit_batches(
        self,
        loader: Iterable[Batch],
        validation: Batch | None = None,
        on_epoch: Callable[[EpochStats], None] | None = None,
    ) -> TrainHistory:
        """Train on a re-iterable loader of (users, items, ratings) batches (e.g. a DataLoader);
        its rating counts are unknown, so every row gets the same L2 weight."""
        return self._run(lambda: iter(loader), validation, on_epoch)

    def _run(
        self,
        epoch_batches: Callable[[], Iterator[Batch]],
        validation: Batch | None,
        on_epoch: Callable[[EpochStats], None] | None,
    ) -> TrainHistory:
        cfg, history = self.config, TrainHistory()
        best_state: dict[str, torch.Tensor] | None = None
        best = math.inf
        with torch_threads(cfg.num_threads):
            torch.manual_seed(cfg.seed)
            self.net.train()
            for epoch in range(1, cfg.epochs + 1):
                started = time.perf_counter()
                history.train_rmse.append(self._epoch(epoch_batches()))
                self._decay_lr()
                val = rmse(self.net, validation) if validation is not None else None
                if val is not None:
                    history.val_rmse.append(val)
                if on_epoch is not None:
                    on_epoch(EpochStats(epoch, cfg.epochs, history.train_rmse[-1], val))
                log.info(
                    "ncf epoch %d/%d: train RMSE %.4f, validation RMSE %s, %.1f s",
                    epoch,
                    cfg.epochs,
                    history.train_rmse[-1],
                    "-" if val is None else f"{val:.4f}",
                    time.perf_counter() - started,
                )
                if val is None:
                    history.best_epoch = epoch
                    continue
                if val < best:
                    best, history.best_epoch = val, epoch
                    best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
                elif epoch - history.best_epoch >= cfg.patience:
                    history.stopped_early = True
                    break
            if best_state is not None:
                self.net.load_state_dict(best_state)
        self.net.eval()
        return history

    def _row_weights(
        self, users: torch.Tensor, items: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Per-row L2 scales (n / mean n)^-reg_exponent from the training pairs (None: all 1)."""
        if not self.config.reg_exponent:
            return None
        counts = []
        for index, table in ((users, self.net.user_bias), (items, self.net.item_bias)):
            n = torch.bincount(index, minlength=table.num_embeddings).float().clamp(min=1.0)
            counts.append((n / n.mean()).pow(-self.config.reg_exponent))
        return counts[0], counts[1]

    def _decay_lr(self) -> None:
        """Multiply every learning rate by ``lr_decay`` (1.0: constant)."""
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                group["lr"] *= self.config.lr_decay

    def _epoch(self, batches: Iterator[Batch]) -> float:
        """One pass over ``batches``; returns the running training RMSE on the rating scale."""
        net, span = self.net, self.net.rating_span
        squared, count = 0.0, 0
        for users, items, ratings in batches:
            predicted = net(users, items)
            mse = ((predicted - ratings) / span).pow(2).mean()
            loss = mse
            if self.config.l2:
                penalty = net.l2_penalty(users, items, row_weights=self.row_weights)
                loss = loss + self.config.l2 * penalty
            for optimizer in self.optimizers:
                optimizer.zero_grad(set_to_none=True)
            loss.backward()
            for optimizer in self.optimizers:
                optimizer.step()
            squared += float(mse.detach()) * len(ratings)
            count += len(ratings)
        return span * math.sqrt(squared / max(count, 1))


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters (reported in the manifest)."""
    return sum(param.numel() for param in net.parameters() if param.requires_grad)
