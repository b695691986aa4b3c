"""NeuMF network (He et al., 2017) for explicit ratings: GMF and MLP towers, forward only.

    gmf    = p_u * q_i                                   (element-wise, ``embedding_dim``)
    mlp    = MLP([p'_u ; q'_i])                          (``hidden_layers``, ReLU, dropout)
    logit  = w . [gmf ; mlp] + b + b_u + b_i
    rating = r_min + (r_max - r_min) * sigmoid(logit)      (output="sigmoid")
    rating = clamp(logit, r_min, r_max)                    (output="linear")

The per-user and per-item bias terms carry the baseline effects so the towers only model the
interaction; ``b`` starts at the global mean (its logit for "sigmoid"), so an untrained net
predicts the mean, and the GMF half of ``w`` starts at 1 (a plain dot product). Both outputs
keep every prediction inside the rating scale; "linear" is additive like the baseline, which
suits a mean near the top of the scale (the sigmoid flattens there). In training, "linear"
clamps with a straight-through gradient, so an out-of-range prediction is still pulled back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

EMBEDDING_INIT_STD = 0.01
OUTPUTS = ("sigmoid", "linear")


class NeuMF(nn.Module):
    """GMF + MLP towers with user/item biases; ``forward(users, items)`` returns ratings."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        embedding_dim: int = 64,
        hidden_layers: Sequence[int] = (128, 64, 32),
        *,
        dropout: float = 0.0,
        rating_min: float = 1.0,
        rating_max: float = 10.0,
        global_mean: float | None = None,
        sparse: bool = True,
        output: str = "sigmoid",
    ) -> None:
        super().__init__()
        if n_users < 1 or n_items < 1:
            raise ValueError("NeuMF needs at least one user and one item")
        if rating_max <= rating_min:
            raise ValueError("rating_max must be greater than rating_min")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}")
        self.output = output
        hidden = [int(size) for size in hidden_layers]
        mlp_dim = hidden[0] // 2 if hidden else embedding_dim
        self.rating_min = float(rating_min)
        self.rating_span = float(rating_max) - float(rating_min)

        self.gmf_user = nn.Embedding(n_users, embedding_dim, sparse=sparse)
        self.gmf_item = nn.Embedding(n_items, embedding_dim, sparse=sparse)
        self.mlp_user = nn.Embedding(n_users, mlp_dim, sparse=sparse)
        self.mlp_item = nn.Embedding(n_items, mlp_dim, sparse=sparse)
        self.user_bias = nn.Embedding(n_users, 1, sparse=sparse)
        self.item_bias = nn.Embedding(n_items, 1, sparse=sparse)

        layers: list[nn.Module] = []
        width = 2 * mlp_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(embedding_dim + width, 1)
        self._init_weights(global_mean)

    def _init_weights(self, global_mean: float | None) -> None:
        for table in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            nn.init.normal_(table.weight, std=EMBEDDING_INIT_STD)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
        for module in self.mlp:
            if isinstance(module, nn.Linear):
                nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.head.weight, std=EMBEDDING_INIT_STD)
        with torch.no_grad():  # GMF half starts as a plain dot product p_u . q_i
            self.head.weight[0, : self.gmf_user.embedding_dim] = 1.0
        mid = self.rating_min + self.rating_span / 2 if global_mean is None else global_mean
        fraction = min(max((mid - self.rating_min) / self.rating_span, 1e-3), 1 - 1e-3)
        start = mid if self.output == "linear" else math.log(fraction / (1 - fraction))
        nn.init.constant_(self.head.bias, start)

    @torch.no_grad()
    def warm_start_biases(self, user_bias: torch.Tensor, item_bias: torch.Tensor) -> None:
        """Start b_u, b_i at rating-scale baseline biases mapped through the sigmoid's slope.

        Around the global mean m the output moves by span * s * (1 - s) per unit of logit
        (s = the mean's position in the scale), so b / slope reproduces the baseline there;
        the linear output's slope is 1.
        """
        fraction = torch.sigmoid(self.head.bias).squeeze()
        slope = self.rating_span * fraction * (1 - fraction) if self.output == "sigmoid" else 1.0
        self.user_bias.weight[:, 0] = user_bias.to(torch.float32) / slope
        self.item_bias.weight[:, 0] = item_bias.to(torch.float32) / slope

    def embedding_tables(self) -> list[nn.Embedding]:
        """The per-user and per-item tables (regularised per batch, updated sparsely)."""
        return [
            self.gmf_user,
            self.gmf_item,
            self.mlp_user,
            self.mlp_item,
            self.user_bias,
            self.item_bias,
        ]

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Predicted ratings, shape ``(batch,)``, each within ``[rating_min, rating_max]``."""
        return self.forward_user_rows(
            self.gmf_user(users), self.mlp_user(users), self.user_bias(users), items
        )

    def forward_user_rows(
        self,
        gmf_user: torch.Tensor,
        mlp_user: torch.Tensor,
        user_bias: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:
        """``forward`` with the user side given as rows (one per item, or one broadcast to all:
        a user folded in from their ratings has no row in the tables)."""
        n = len(items)
        gmf = gmf_user * self.gmf_item(items)
        mlp_rows = mlp_user.expand(n, -1) if len(mlp_user) == 1 else mlp_user
        mlp = self.mlp(torch.cat([mlp_rows, self.mlp_item(items)], dim=1))
        logit = self.head(torch.cat([gmf, mlp], dim=1)).squeeze(1)
        logit = logit + user_bias.reshape(-1) + self.item_bias(items).squeeze(1)
        return self.to_rating(logit)

    def to_rating(self, logit: torch.Tensor) -> torch.Tensor:
        """The output layer: logits to ratings within ``[rating_min, rating_max]``."""
        if self.output == "sigmoid":
            return self.rating_min + self.rating_span * torch.sigmoid(logit)
        bounded = logit.clamp(self.rating_min, self.rating_min + self.rating_span)
        return logit + (bounded - logit).detach() if self.training else bounded

    def l2_penalty(
        self,
        users: torch.Tensor,
        items: torch.Tensor,
        bias_weight: float = 0.0,
        row_weights: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Mean squared norm of the factor rows a batch touches (classic MF regularisation),
        plus ``bias_weight`` times that of its bias rows; ``row_weights`` (per user, per item)
        scale each row's term, e.g. to regularise rarely rated rows harder."""
        tables = self.embedding_tables()
        weights = (1.0, 1.0, 1.0, 1.0, bias_weight, bias_weight)
        scale = (
            (None, None) if row_weights is None else (row_weights[0][users], row_weights[1][items])
        )
        total = torch.zeros(())
        for position, (table, weight) in enumerate(zip(tables, weights, strict=True)):
            if weight:
                index, row_scale = (users, items)[position % 2], scale[position % 2]
                norms = table(index).pow(2).sum(dim=1)
                total = total + weight * (norms if row_scale is None else norms * row_scale).mean()
        return total
