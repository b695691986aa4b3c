"""NeuMF scores of users x every item, with the per-pair work factored out.

The first MLP layer is linear in [p'_u ; q'_i], so W [p'_u ; q'_i] + b = (W_u p'_u + b) + W_i q'_i
is computed once per user and once per item; the GMF half of the head is linear too:
w_g . (p_u * q_i) = (p_u * w_g) . q_i, one matrix product. Only the hidden MLP layers run per
(user, item) pair. Built from the net's own modules; `matches_forward` checks the result
against ``net.forward`` so a changed network falls back to the plain forward pass.
"""

from __future__ import annotations

import torch
from torch import nn

from ml.models.ncf.net import NeuMF


def factorable(net: NeuMF) -> bool:
    """True when the net has the layout `GridScorer` assumes (MLP starting with a Linear)."""
    mlp = getattr(net, "mlp", None)
    return isinstance(mlp, nn.Sequential) and len(mlp) > 0 and isinstance(mlp[0], nn.Linear)


class GridScorer:
    """Scores users x a fixed set of items; the item side is computed once, at construction."""

    @torch.no_grad()
    def __init__(self, net: NeuMF, items: torch.Tensor) -> None:
        self.net = net
        first = net.mlp[0]
        assert isinstance(first, nn.Linear)
        self.first = first
        mlp_item = net.mlp_item(items)
        self.width = mlp_item.shape[1]
        self.item_part = mlp_item @ first.weight[:, self.width :].T
        gmf_dim = net.gmf_user.embedding_dim
        self.head_gmf, self.head_mlp = net.head.weight[0, :gmf_dim], net.head.weight[0, gmf_dim:]
        self.gmf_item_t = net.gmf_item(items).T.contiguous()
        self.item_bias = net.item_bias(items).T + net.head.bias

    @torch.no_grad()
    def __call__(self, users: torch.Tensor) -> torch.Tensor:
        """Ratings, len(users) x len(items), equal (to float32 rounding) to ``net(u, i)``."""
        net, first = self.net, self.first
        user_part = net.mlp_user(users) @ first.weight[:, : self.width].T + first.bias
        hidden = (user_part[:, None, :] + self.item_part[None, :, :]).reshape(
            -1, first.out_features
        )
        for layer in list(net.mlp)[1:]:
            if isinstance(layer, nn.ReLU):
                hidden = hidden.relu_()  # in place: these blocks are memory-bound
            elif not (isinstance(layer, nn.Dropout) and not net.training):
                hidden = layer(hidden)
        logit = (hidden @ self.head_mlp).reshape(len(users), -1)
        logit = logit + (net.gmf_user(users) * self.head_gmf) @ self.gmf_item_t
        logit = logit + self.item_bias + net.user_bias(users)
        return net.to_rating(logit)


@torch.no_grad()
def matches_forward(net: NeuMF, user: int, n_items: int, tolerance: float = 1e-4) -> bool:
    """Whether `GridScorer` reproduces ``net.forward`` for one user and up to 256 items."""
    items = torch.arange(min(n_items, 256))
    users = torch.full_like(items, user)
    grid = GridScorer(net, items)(users[:1])[0]
    return bool(torch.allclose(grid, net(users, items), atol=tolerance, rtol=0.0))
