"""NeuMF's linear output, frequency-weighted L2, the L2 grid and the refit on every rating."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ml.models import NeuralCF
from ml.models.ncf.net import NeuMF
from ml.models.ncf.trainer import NCFTrainer, TrainerConfig, carve
from ml.models.neural_cf import CONFIG_FILE, NeuralCFConfig
from tests.ml.rating_data import two_taste_groups

SMALL = {"embedding_dim": 4, "hidden_layers": [8, 4], "batch_size": 16}


def linear_net() -> NeuMF:
    torch.manual_seed(0)
    return NeuMF(5, 7, 8, (16, 8), rating_min=1.0, rating_max=10.0, output="linear")


def test_linear_output_is_bounded_yet_pulls_back_out_of_range_predictions() -> None:
    net = linear_net()
    users, items = torch.tensor([0, 1]), torch.tensor([2, 3])
    with torch.no_grad():
        net.head.bias.fill_(14.0)
    net.eval()
    with torch.no_grad():
        assert float(net(users, items).max()) == 10.0
    net.train()
    loss = (net(users, items) - 6.0).pow(2).mean()
    loss.backward()
    assert net.head.bias.grad is not None and float(net.head.bias.grad) > 0  # pushed down


def test_untrained_linear_net_predicts_the_global_mean() -> None:
    net = NeuMF(4, 4, 8, (16, 8), rating_min=1.0, rating_max=5.0, global_mean=3.6, output="linear")
    with torch.no_grad():
        np.testing.assert_allclose(net(torch.arange(4), torch.arange(4)).numpy(), 3.6, atol=0.02)


def test_unknown_output_is_rejected() -> None:
    with pytest.raises(ValueError):
        NeuMF(3, 3, output="softmax")


def test_row_weights_scale_each_rows_l2_term() -> None:
    net = linear_net()
    users, items = torch.tensor([0, 0, 3]), torch.tensor([1, 2, 2])
    with torch.no_grad():
        plain = float(net.l2_penalty(users, items))
        twice = (torch.full((5,), 2.0), torch.full((7,), 2.0))
        doubled = float(net.l2_penalty(users, items, row_weights=twice))
        only_items = float(
            net.l2_penalty(users, items, row_weights=(torch.zeros(5), torch.ones(7)))
        )
        items_part = sum(
            float(t(items).pow(2).sum(dim=1).mean()) for t in (net.gmf_item, net.mlp_item)
        )
    assert doubled == pytest.approx(2 * plain, rel=1e-6)
    assert only_items == pytest.approx(items_part, rel=1e-6)


def test_rarely_rated_rows_are_regularised_harder() -> None:
    users = torch.tensor([0, 0, 0, 0, 1])
    items = torch.tensor([0, 1, 2, 3, 0])
    trainer = NCFTrainer(linear_net(), TrainerConfig(reg_exponent=0.5))
    user_weights, item_weights = trainer._row_weights(users, items)
    assert float(user_weights[1]) > float(user_weights[0])
    assert float(item_weights[1]) > float(item_weights[0])
    assert NCFTrainer(linear_net(), TrainerConfig())._row_weights(users, items) is None


def test_l2_is_in_units_of_the_rating_variance() -> None:
    config = NeuralCFConfig(l2=0.1).trainer_config(rating_variance=2.0, span=4.0)
    assert config.l2 == pytest.approx(0.1 * 2.0 / 16.0)


def test_carve_holds_out_a_seeded_fraction() -> None:
    users, items = np.arange(20), np.arange(20) % 4
    ratings = np.linspace(1, 5, 20)
    (fit_u, _, _), val = carve(users, items, ratings, 0.25, seed=1)
    assert val is not None and len(val[0]) == 5 and len(fit_u) == 15
    assert set(fit_u.tolist()).isdisjoint(val[0].tolist())
    assert carve(users, items, ratings, 0.0, seed=1)[1] is None


def test_grid_keeps_the_l2_with_the_best_validation_rmse() -> None:
    data = two_taste_groups().drop_duplicates(["user_id", "anime_id"], keep="last")
    train, validation = data.iloc[:-15], data.iloc[-15:]
    model = NeuralCF(**SMALL, epochs=4, l2_grid=[0.0, 0.3, 30.0]).fit(train, validation)
    assert set(model.l2_scores) == {0.0, 0.3, 30.0}
    assert model.l2_used == min(model.l2_scores, key=model.l2_scores.__getitem__)
    assert model.history is not None
    assert model.history.best_val_rmse == pytest.approx(model.l2_scores[model.l2_used])
    assert not model.refitted  # the validation set was given: nothing was held out of training


def test_small_data_is_refitted_on_every_rating_after_the_carve_out() -> None:
    ratings = two_taste_groups()
    model = NeuralCF(**SMALL, epochs=3, l2_grid=[]).fit(ratings)
    assert model.refitted and model.training_summary()["refitted_on_all"]
    kept = NeuralCF(**SMALL, epochs=3, l2_grid=[], refit=False).fit(ratings)
    assert not kept.refitted
    users, items = ratings["user_id"].to_numpy(), ratings["anime_id"].to_numpy()
    assert not np.allclose(model.predict_many(users, items), kept.predict_many(users, items))


def test_progress_counts_epochs_across_the_grid() -> None:
    seen: list[tuple[int, int]] = []
    model = NeuralCF(**SMALL, epochs=2, patience=5, l2_grid=[0.0, 0.1], refit=False)
    model.on_epoch = lambda stats: seen.append((stats.epoch, stats.epochs))
    model.fit(two_taste_groups())
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_checkpoint_without_an_output_entry_loads_as_sigmoid(tmp_path: Path) -> None:
    ratings = two_taste_groups()
    model = NeuralCF(**SMALL, epochs=2, output="sigmoid").fit(ratings)
    model.save(tmp_path / "ncf")
    state = json.loads((tmp_path / "ncf" / CONFIG_FILE).read_text())
    del state["output"]  # written before the linear output existed
    (tmp_path / "ncf" / CONFIG_FILE).write_text(json.dumps(state))
    meta = json.loads((tmp_path / "ncf" / "meta.json").read_text())
    meta["params"].pop("output")
    (tmp_path / "ncf" / "meta.json").write_text(json.dumps(meta))
    loaded = NeuralCF.load(tmp_path / "ncf")
    assert loaded._model().output == "sigmoid"
    users, items = ratings["user_id"].to_numpy(), ratings["anime_id"].to_numpy()
    np.testing.assert_allclose(
        loaded.predict_many(users, items), model.predict_many(users, items), rtol=1e-6
    )


def test_linear_model_round_trips(tmp_path: Path) -> None:
    ratings = pd.concat([two_taste_groups(), two_taste_groups(seed=4)], ignore_index=True)
    model = NeuralCF(**SMALL, epochs=2).fit(ratings)
    model.save(tmp_path / "ncf")
    loaded = NeuralCF.load(tmp_path / "ncf")
    assert loaded._model().output == "linear" and loaded.l2_used == model.l2_used
    users, items = ratings["user_id"].to_numpy(), ratings["anime_id"].to_numpy()
    np.testing.assert_array_equal(
        loaded.predict_many(users, items), model.predict_many(users, items)
    )
