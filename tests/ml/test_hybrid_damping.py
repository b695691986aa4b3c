"""HybridWeightedCF chooses its k-NN components' damping with the weights, on validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.models import HybridWeightedCF, ItemBasedCF, UserBasedCF
from ml.models.hybrid import DAMPING_GRID
from tests.ml.rating_data import two_taste_groups


def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.concat([two_taste_groups(), two_taste_groups(seed=9)], ignore_index=True)
    data = data.drop_duplicates(["user_id", "anime_id"], keep="last").sample(frac=1, random_state=0)
    return data.iloc[:-25], data.iloc[-25:]


def fitted_pair(train: pd.DataFrame) -> tuple[UserBasedCF, ItemBasedCF]:
    user = UserBasedCF(k=3, min_support=2, damping=1.0).fit(train)
    item = ItemBasedCF(k=3, min_support=2, damping=0.5).fit(train)
    return user, item


def validation_rmse(model: HybridWeightedCF, validation: pd.DataFrame) -> float:
    preds = model.predict_many(validation["user_id"].to_numpy(), validation["anime_id"].to_numpy())
    return float(np.sqrt(np.mean((preds - validation["rating"].to_numpy()) ** 2)))


def test_tuned_damping_never_worsens_the_validation_blend() -> None:
    train, validation = split()
    user, item = fitted_pair(train)
    fixed = HybridWeightedCF(user, item, tune_damping=False).fit(train, validation)
    tuned = HybridWeightedCF(user, item).fit(train, validation)
    assert validation_rmse(tuned, validation) <= validation_rmse(fixed, validation) + 1e-9
    for name, original in (("user_based", 1.0), ("item_based", 0.5)):
        damping = tuned.components[name].damping  # type: ignore[attr-defined]
        assert damping in (*DAMPING_GRID, original)
    assert sum(tuned.weights.values()) == pytest.approx(1.0)


def test_models_shared_with_the_caller_keep_their_damping() -> None:
    train, validation = split()
    user, item = fitted_pair(train)
    hybrid = HybridWeightedCF(user, item).fit(train, validation)
    assert user.damping == 1.0 and item.damping == 0.5
    assert hybrid.components["user_based"] is not user
    assert hybrid.components["item_based"] is not item


def test_the_chosen_damping_is_saved_with_the_components(tmp_path: Path) -> None:
    train, validation = split()
    hybrid = HybridWeightedCF(*fitted_pair(train)).fit(train, validation)
    hybrid.save(tmp_path / "hybrid")
    loaded = HybridWeightedCF.load(tmp_path / "hybrid")
    for name in ("user_based", "item_based"):
        assert loaded.components[name].damping == hybrid.components[name].damping  # type: ignore[attr-defined]
    assert loaded.get_params()["tune_damping"] is True
