"""A user the NeuMF rating net never saw, fitted from their ratings with the item side frozen.

The user's three rows (GMF factors, MLP factors, bias) start at the training user's rows when
the user is known (their ratings changed) or at the mean user row, then take FOLD_IN_STEPS Adam
steps on the mean squared error on the scale normalised to [0, 1] plus ``l2`` times the squared
norm of the factor rows; the same steps every time, so the answer depends only on the ratings.
"""

from __future__ import annotations

import numpy as np
import torch

from ml.models.ncf.net import NeuMF

FOLD_IN_STEPS = 30
FOLD_IN_LR = 0.05

UserRows = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@torch.no_grad()
def starting_rows(net: NeuMF, user_idx: int) -> UserRows:
    """The rows a fold-in starts from: the user's own when known, else the mean user's."""
    tables = (net.gmf_user, net.mlp_user, net.user_bias)
    if user_idx >= 0:
        index = torch.tensor([user_idx])
        gmf, mlp, bias = (table(index).clone() for table in tables)
        return gmf, mlp, bias
    gmf, mlp, bias = (table.weight.mean(dim=0, keepdim=True).clone() for table in tables)
    return gmf, mlp, bias


def fold_in_rating_rows(
    net: NeuMF, items: np.ndarray, ratings: np.ndarray, start: UserRows, l2: float
) -> UserRows:
    """The user's rows fitted to ``ratings`` of item indices ``items`` (net in eval mode)."""
    net.eval()
    rows = [row.clone().requires_grad_(True) for row in start]
    if not len(items):
        return rows[0].detach(), rows[1].detach(), rows[2].detach()
    item_tensor = torch.from_numpy(np.asarray(items, dtype=np.int64))
    target = torch.from_numpy(np.asarray(ratings, dtype=np.float32))
    optimizer = torch.optim.Adam(rows, lr=FOLD_IN_LR)
    for _ in range(FOLD_IN_STEPS):
        predicted = net.forward_user_rows(rows[0], rows[1], rows[2], item_tensor)
        loss = ((predicted - target) / net.rating_span).pow(2).mean()
        loss = loss + l2 * (rows[0].pow(2).sum() + rows[1].pow(2).sum())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return rows[0].detach(), rows[1].detach(), rows[2].detach()


@torch.no_grad()
def rate_items(net: NeuMF, rows: UserRows, items: np.ndarray) -> np.ndarray:
    """Predicted ratings (float64) of item indices for a user given by their rows."""
    net.eval()
    item_tensor = torch.from_numpy(np.asarray(items, dtype=np.int64))
    return net.forward_user_rows(rows[0], rows[1], rows[2], item_tensor).double().numpy()
