"""GMF on implicit feedback (He et al., 2017): which items a user interacts with.

    logit(u, i) = h . (p_u * q_i) + b_i,   P(interaction) = sigmoid(logit)

Trained with binary cross-entropy on every interaction (rated or watched) against ``negatives``
items drawn uniformly per positive and epoch, Adam (SparseAdam for the embedding tables), an L2
penalty on the rows a batch touches, and early stopping on a validation score given by the
caller (its best epoch restored). A user unseen in training is folded in by fitting p_u alone:
logistic regression on the item side's features z_i = h * q_i, every non-interacted item a
negative weighted so that negatives weigh ``negatives`` times the positives, solved by
majorise-minimise steps with the fixed curvature bound 1/4 (each step one solve of a d x d
system factorised once per user).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.linalg import cho_factor, cho_solve
from torch import nn

from ml.models.ncf.trainer import torch_threads

log = logging.getLogger(__name__)

FOLD_IN_STEPS = 25


class InteractionGMF(nn.Module):
    """p_u, q_i (sparse tables), b_i and the head h; ``forward`` returns logits."""

    def __init__(self, n_users: int, n_items: int, dim: int = 64) -> None:
        super().__init__()
        self.user = nn.Embedding(n_users, dim, sparse=True)
        self.item = nn.Embedding(n_items, dim, sparse=True)
        self.item_bias = nn.Embedding(n_items, 1, sparse=True)
        self.head = nn.Parameter(torch.ones(dim))
        nn.init.normal_(self.user.weight, std=0.01)
        nn.init.normal_(self.item.weight, std=0.01)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        product = self.user(users) * self.item(items) * self.head
        return product.sum(dim=1) + self.item_bias(items).squeeze(1)

    @torch.no_grad()
    def item_side(self) -> tuple[np.ndarray, np.ndarray]:
        """(z = h * q for every item, b) as float64 arrays: logit = z @ p_u + b."""
        features = (self.item.weight * self.head).double().numpy()
        return features, self.item_bias.weight[:, 0].double().numpy()

    @torch.no_grad()
    def user_vectors(self) -> np.ndarray:
        return self.user.weight.double().numpy()


@dataclass(frozen=True)
class InteractionConfig:
    """Training settings of the interaction GMF."""

    dim: int = 64
    epochs: int = 20
    batch_size: int = 1024
    lr: float = 2e-3
    negatives: int = 4
    l2: float = 1e-5
    patience: int = 3
    seed: int = 42
    num_threads: int | None = None


@dataclass
class InteractionHistory:
    """Validation score per epoch (higher is better) and the restored epoch (1-based)."""

    scores: list[float] = field(default_factory=list)
    best_epoch: int = 0


def train_interactions(
    net: InteractionGMF,
    users: np.ndarray,
    items: np.ndarray,
    config: InteractionConfig,
    validate: Callable[[], float] | None = None,
) -> InteractionHistory:
    """Fit ``net`` on the (user, item) interactions; with ``validate`` (called after each epoch,
    higher is better) stop after ``patience`` epochs without a better score and restore the best
    epoch, else train all ``epochs``."""
    generator = torch.Generator().manual_seed(config.seed)
    positives_u = torch.from_numpy(np.asarray(users, dtype=np.int64))
    positives_i = torch.from_numpy(np.asarray(items, dtype=np.int64))
    n_items = net.item.num_embeddings
    sparse = [net.user.weight, net.item.weight, net.item_bias.weight]
    optimizers: list[torch.optim.Optimizer] = [
        torch.optim.SparseAdam(sparse, lr=config.lr),
        torch.optim.Adam([net.head], lr=config.lr),
    ]
    loss_fn = nn.BCEWithLogitsLoss()
    history = InteractionHistory()
    best_state: dict[str, torch.Tensor] | None = None
    best = -math.inf
    with torch_threads(config.num_threads):
        torch.manual_seed(config.seed)
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            net.train()
            # Sample p < n_pos is positive p; sample n_pos + j pairs user j % n_pos with
            # negatives[j]. Only the negatives and the order are materialised.
            n_pos = len(positives_u)
            negatives = torch.randint(0, n_items, (n_pos * config.negatives,), generator=generator)
            order = torch.randperm(n_pos * (config.negatives + 1), generator=generator)
            for start in range(0, len(order), config.batch_size):
                index = order[start : start + config.batch_size]
                positive = index < n_pos
                u = positives_u[index % n_pos]
                i = torch.where(
                    positive,
                    positives_i[index.clamp(max=n_pos - 1)],
                    negatives[(index - n_pos).clamp(min=0)],
                )
                loss = loss_fn(net(u, i), positive.float())
                if config.l2:
                    penalty = net.user(u).pow(2).sum(1).mean() + net.item(i).pow(2).sum(1).mean()
                    loss = loss + config.l2 * penalty
                for optimizer in optimizers:
                    optimizer.zero_grad(set_to_none=True)
                loss.backward()
                for optimizer in optimizers:
                    optimizer.step()
            net.eval()
            if validate is None:
                history.best_epoch = epoch
                continue
            score = validate()
            history.scores.append(score)
            log.info(
                "ncf interactions epoch %d/%d: validation %.4f, %.1f s",
                epoch,
                config.epochs,
                score,
                time.perf_counter() - started,
            )
            if score > best:
                best, history.best_epoch = score, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            elif epoch - history.best_epoch >= config.patience:
                break
        if best_state is not None:
            net.load_state_dict(best_state)
    net.eval()
    return history


def fold_in_user(
    features: np.ndarray,
    bias: np.ndarray,
    gram: np.ndarray,
    positives: np.ndarray,
    *,
    negatives: int,
    l2: float,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """p_u maximising sum_i w_i [y_i log s_i + (1 - y_i) log(1 - s_i)] - l2 n ||p||^2,
    s_i = sigmoid(z_i . p + b_i), y_i = 1 for ``positives``, negatives weighted so that they
    weigh ``negatives`` times the positives in all (FOLD_IN_STEPS majorise-minimise steps);
    ``gram`` is features^T features (computed once per model)."""
    n_items, dim = features.shape
    positives = np.unique(positives)
    target = np.zeros(n_items)
    target[positives] = 1.0
    n_pos = len(positives)
    negative_weight = negatives * n_pos / max(n_items - n_pos, 1)
    weight = np.full(n_items, negative_weight)
    weight[positives] = 1.0
    ridge = 2.0 * l2 * max(n_pos * (1 + negatives), 1)
    chosen = features[positives]
    weighted_gram = negative_weight * gram + (1.0 - negative_weight) * (chosen.T @ chosen)
    curvature = 0.25 * weighted_gram + ridge * np.eye(dim)
    factor = cho_factor(curvature)
    vector = np.zeros(dim) if start is None else np.asarray(start, dtype=np.float64).copy()
    for _ in range(FOLD_IN_STEPS):
        logits = features @ vector + bias
        residual = weight * (1.0 / (1.0 + np.exp(-logits)) - target)
        vector -= cho_solve(factor, features.T @ residual + ridge * vector)
    return vector
