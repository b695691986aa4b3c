"""Straightforward (loop-based, slow) reference computations of the k-NN formulas.

Used to cross-check the vectorised models on tiny data (tests/ml and bench/compare_surprise.py).
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from ml.models import UserBasedCF


def pearson_corated(
    a: dict[object, float], b: dict[object, float], mean_a: float, mean_b: float
) -> tuple[float, int]:
    """(sum_c (a_c - mean_a)(b_c - mean_b) / sqrt(sum_c (a_c - mean_a)^2 sum_c (b_c - mean_b)^2),
    number of co-rated items c); 0 similarity when a denominator is 0."""
    common = [c for c in a if c in b]
    num = sum((a[c] - mean_a) * (b[c] - mean_b) for c in common)
    den_a = sum((a[c] - mean_a) ** 2 for c in common)
    den_b = sum((b[c] - mean_b) ** 2 for c in common)
    if den_a <= 0 or den_b <= 0:
        return 0.0, len(common)
    return num / math.sqrt(den_a * den_b), len(common)


def user_based_predictions(
    train: pd.DataFrame, model: UserBasedCF, pairs: list[tuple[object, object]]
) -> list[float]:
    """UserBasedCF's formula computed pair by pair, with the fitted model's baseline."""
    ratings: dict[object, dict[object, float]] = defaultdict(dict)
    for user, item, rating in train[["user_id", "anime_id", "rating"]].itertuples(index=False):
        ratings[user][item] = float(rating)
    means = {u: sum(r.values()) / len(r) for u, r in ratings.items()}
    neighbours: dict[object, list[tuple[float, object]]] = {}
    for u in ratings:
        sims = []
        for v in ratings:
            if v == u:
                continue
            sim, n = pearson_corated(ratings[u], ratings[v], means[u], means[v])
            if n < max(model.config.min_support, 1):
                continue
            sim *= n / (n + model.config.shrinkage) if model.config.shrinkage > 0 else 1.0
            if sim > 0:
                sims.append((sim, v))
        sims.sort(key=lambda t: -t[0])
        neighbours[u] = sims[: model.max_neighbours]

    def base(user: object, item: object) -> float:
        if model.centring == "mean":
            return means[user]
        return _baseline(model, user, item)

    out = []
    for u, i in pairs:
        raters = [(s, v) for s, v in neighbours.get(u, []) if i in ratings[v]][: model.k]
        total = sum(s for s, _ in raters)
        if u not in ratings or not raters or total <= 0:
            out.append(_clip(model, _baseline(model, u, i)))
            continue
        dev = sum(s * (ratings[v][i] - base(v, i)) for s, v in raters) / (total + model.damping)
        out.append(_clip(model, base(u, i) + dev))
    return out


def _baseline(model: UserBasedCF, user: object, item: object) -> float:
    """mu + b_u + b_i from the fitted model's biases (0 bias for unknown ids)."""
    biases = model._check_fitted()[2]
    u = model.users.index_of(user) if model.users is not None else -1
    i = model.items.index_of(item)
    return float(biases.predict([u], [i])[0])


def _clip(model: UserBasedCF, value: float) -> float:
    return min(max(value, model.rating_min), model.rating_max)
