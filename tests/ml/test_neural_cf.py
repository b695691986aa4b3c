"""NeuMF network, trainer (early stopping, best-epoch restore) and the NeuralCF wrapper."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from ml.exceptions import DataError
from ml.models import NeuralCF
from ml.models.ncf.net import NeuMF
from ml.models.ncf.trainer import NCFTrainer, TrainerConfig, rmse, tensors
from ml.models.neural_cf import CONFIG_FILE, SMALL_DATA_RATINGS, WEIGHTS_FILE, NeuralCFConfig
from ml.training.individual_trainers import TrainOptions, ncf_settings
from tests.ml.rating_data import two_taste_groups


def make_net(**kwargs: object) -> NeuMF:
    torch.manual_seed(0)
    settings: dict = {"embedding_dim": 8, "hidden_layers": (16, 8), "rating_min": 1.0}
    settings.update(kwargs)
    return NeuMF(5, 7, **settings)


def test_forward_shape_and_scale() -> None:
    net = make_net(rating_max=10.0)
    users = torch.tensor([0, 1, 4, 4])
    items = torch.tensor([0, 6, 3, 3])
    with torch.no_grad():
        out = net(users, items)
        assert out.shape == (4,)
        assert out.dtype == torch.float32
        net.head.bias.fill_(1e4)  # extreme weights still land inside the scale
        assert float(net(users, items).max()) <= 10.0
        net.head.bias.fill_(-1e4)
        assert float(net(users, items).min()) >= 1.0


def test_mlp_tower_widths_follow_hidden_layers() -> None:
    net = make_net(embedding_dim=6, hidden_layers=(20, 10, 5))
    linear = [m for m in net.mlp if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(20, 20), (20, 10), (10, 5)]
    assert net.head.in_features == 6 + 5
    assert net.mlp_user.embedding_dim == 10


def test_untrained_net_predicts_the_global_mean() -> None:
    net = make_net(rating_max=5.0, global_mean=3.7)
    with torch.no_grad():
        out = net(torch.arange(5), torch.arange(5))
    np.testing.assert_allclose(out.numpy(), 3.7, atol=0.02)


def test_warm_start_reproduces_baseline_biases_near_the_mean() -> None:
    net = make_net(rating_max=10.0, global_mean=7.0)
    with torch.no_grad():
        net.head.weight.zero_()
    net.warm_start_biases(torch.tensor([0.05, -0.05, 0, 0, 0]), torch.zeros(7))
    with torch.no_grad():
        out = net(torch.tensor([0, 1, 2]), torch.tensor([0, 0, 0])).numpy()
    np.testing.assert_allclose(out, [7.05, 6.95, 7.0], atol=1e-3)


def test_invalid_shapes_are_rejected() -> None:
    with pytest.raises(ValueError):
        NeuMF(0, 3)
    with pytest.raises(ValueError):
        NeuMF(3, 3, rating_min=5, rating_max=5)


def _opposed_data() -> tuple:
    """Training ratings whose validation twin is reversed: fitting one hurts the other."""
    rng = np.random.default_rng(0)
    users = rng.integers(0, 5, 400)
    items = rng.integers(0, 7, 400)
    ratings = np.where((users + items) % 2 == 0, 9.0, 2.0)
    train = tensors(users, items, ratings)
    validation = tensors(users, items, 11.0 - ratings)
    return train, validation


def test_early_stopping_restores_the_best_epoch() -> None:
    train, validation = _opposed_data()
    net = make_net(rating_max=10.0, global_mean=5.5)
    config = TrainerConfig(epochs=30, batch_size=32, lr=0.02, patience=2, l2=0.0)
    history = NCFTrainer(net, config).fit(train, validation)
    assert history.stopped_early
    best = int(np.argmin(history.val_rmse)) + 1
    assert history.best_epoch == best
    assert len(history.val_rmse) == best + 2
    assert history.val_rmse[-1] > history.best_val_rmse  # training went on getting worse...
    assert rmse(net, validation) == pytest.approx(history.best_val_rmse, rel=1e-6)  # ...restored
    assert not net.training


def test_training_without_validation_runs_every_epoch_and_learns() -> None:
    train, _ = _opposed_data()
    net = make_net(rating_max=10.0, global_mean=5.5)
    before = rmse(net, train)
    seen: list[int] = []
    config = TrainerConfig(epochs=4, batch_size=32, lr=0.02, l2=0.0)
    history = NCFTrainer(net, config).fit(train, on_epoch=lambda s: seen.append(s.epoch))
    assert seen == [1, 2, 3, 4] and history.best_epoch == 4 and not history.stopped_early
    assert rmse(net, train) < before / 2


def test_trainer_restores_the_thread_setting() -> None:
    train, validation = _opposed_data()
    previous = torch.get_num_threads()
    NCFTrainer(make_net(), TrainerConfig(epochs=1, num_threads=1)).fit(train, validation)
    assert torch.get_num_threads() == previous


def test_fit_carves_a_validation_split_and_reports_history() -> None:
    model = NeuralCF(embedding_dim=4, hidden_layers=[8, 4], epochs=3, batch_size=16)
    model.fit(two_taste_groups())
    summary = model.training_summary()
    assert 1 <= summary["best_epoch"] <= 3
    assert len(summary["val_rmse"]) == summary["epochs_run"]
    assert summary["n_parameters"] > 0


def test_save_writes_a_state_dict_and_json_and_round_trips(tmp_path: Path) -> None:
    ratings = two_taste_groups()
    model = NeuralCF(embedding_dim=4, hidden_layers=[8, 4], epochs=2).fit(ratings)
    model.save(tmp_path / "ncf")
    assert (tmp_path / "ncf" / WEIGHTS_FILE).is_file() and (
        tmp_path / "ncf" / CONFIG_FILE
    ).is_file()
    weights = torch.load(tmp_path / "ncf" / WEIGHTS_FILE, weights_only=True)
    assert all(isinstance(value, torch.Tensor) for value in weights.values())
    loaded = NeuralCF.load(tmp_path / "ncf")
    users, items = ratings["user_id"].to_numpy(), ratings["anime_id"].to_numpy()
    np.testing.assert_array_equal(
        loaded.predict_many(users, items), model.predict_many(users, items)
    )
    assert loaded.history is not None and loaded.history.best_epoch == model.history.best_epoch


class Payload:
    """An arbitrary class: a pickle that needs it must not load."""


def test_load_refuses_a_checkpoint_that_needs_code(tmp_path: Path) -> None:
    model = NeuralCF(embedding_dim=4, hidden_layers=[8, 4], epochs=1).fit(two_taste_groups())
    model.save(tmp_path / "ncf")
    torch.save({"gmf_user.weight": Payload()}, tmp_path / "ncf" / WEIGHTS_FILE)
    with pytest.raises(pickle.UnpicklingError):
        NeuralCF.load(tmp_path / "ncf")


def test_seed_style_train_on_a_loader() -> None:
    rng = np.random.default_rng(1)
    users = torch.from_numpy(rng.integers(0, 6, 300))
    items = torch.from_numpy(rng.integers(0, 9, 300))
    ratings = torch.where((users + items) % 2 == 0, 4.0, 2.0)
    loader = DataLoader(TensorDataset(users, items, ratings), batch_size=32, shuffle=False)
    model = NeuralCF(
        n_users=6,
        n_items=9,
        embedding_dim=8,
        hidden_layers=[16, 8],
        lr=0.05,
        batch_size=16,
        dropout=0.0,
        lr_decay=1.0,
    )
    history = model.train(loader, epochs=15)
    assert len(history.train_rmse) <= 15
    assert model.knows_user(5) and model.knows_item(8)
    assert model.rating_min == 2.0 and model.rating_max == 4.0
    assert model.predict(0, 0) > model.predict(0, 1)  # learned the parity pattern
    with pytest.raises(DataError):
        NeuralCF(n_users=3, n_items=9).train(loader, epochs=1)


def test_unknown_setting_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        NeuralCF(hidden=[3])


def test_predictions_within_scale_for_extreme_targets() -> None:
    frame = pd.DataFrame({"user_id": [1, 1, 2, 2], "anime_id": [1, 2, 1, 2], "rating": [1, 10] * 2})
    model = NeuralCF(embedding_dim=2, hidden_layers=[4], epochs=2, lr=0.5).fit(frame)
    preds = model.predict_many([1, 2, 3], [1, 2, 3])
    assert np.all((preds >= 1) & (preds <= 10)) and not np.isnan(preds).any()
    assert math.isfinite(model.predict(1, 1))


def test_validation_of_unknown_pairs_only_means_no_early_stopping() -> None:
    ratings = two_taste_groups()
    strangers = pd.DataFrame({"user_id": ["x", "y"], "anime_id": [1, 2], "rating": [5, 6]})
    model = NeuralCF(embedding_dim=4, hidden_layers=[8, 4], epochs=3, patience=1)
    model.fit(ratings, strangers)
    assert model.history is not None
    assert model.history.val_rmse == [] and model.history.best_epoch == 3


def test_large_data_settings_apply_above_the_small_data_size_only() -> None:
    config = NeuralCFConfig(batch_size=512)
    assert config.for_ratings(SMALL_DATA_RATINGS) is config
    large = config.for_ratings(SMALL_DATA_RATINGS + 1)
    assert large.batch_size == config.large_data["batch_size"] != 512
    assert (large.rank_negatives, large.patience) == (
        config.large_data["rank_negatives"],
        config.large_data["patience"],
    )
    assert large.for_ratings(SMALL_DATA_RATINGS + 1) == large
    assert NeuralCFConfig(large_data={}).for_ratings(10**9).batch_size == 1024


def test_an_explicit_batch_size_holds_on_large_data() -> None:
    settings = ncf_settings(TrainOptions(batch_size=2048))
    config = NeuralCF(**settings).config.for_ratings(SMALL_DATA_RATINGS + 1)
    assert config.batch_size == 2048 and config.rank_batch_size == 8192
