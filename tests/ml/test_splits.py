"""Splits: Surprise-identical random split, per-user holdout, validation carve-out."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.exceptions import DataError
from ml.splits import per_user_split, random_split, validation_split
from tests.ml.rating_data import two_taste_groups


def ratings() -> pd.DataFrame:
    return two_taste_groups().drop_duplicates(["user_id", "anime_id"], keep="last")


def test_random_split_is_surprises_split() -> None:
    surprise = pytest.importorskip("surprise")
    from surprise.model_selection import train_test_split

    data = ratings().reset_index(drop=True)
    dataset = surprise.Dataset.load_from_df(data, surprise.Reader(rating_scale=(1, 10)))
    _, testset = train_test_split(dataset, test_size=0.2, random_state=42)
    train, test = random_split(data, test_size=0.2, seed=42)
    assert [(u, i, float(r)) for u, i, r in test.itertuples(index=False)] == [
        (u, i, float(r)) for u, i, r in testset
    ]
    assert len(train) + len(test) == len(data)
    assert set(train.index).isdisjoint(test.index)


def test_per_user_split_keeps_every_user_in_train() -> None:
    data = ratings()
    train, test = per_user_split(data, test_fraction=0.3, seed=1)
    assert set(train["user_id"]) == set(data["user_id"])
    assert len(train) + len(test) == len(data)
    per_user = test.groupby("user_id").size()
    counts = data.groupby("user_id").size()
    assert (per_user == (counts[per_user.index] * 0.3).astype(int)).all()
    again, _ = per_user_split(data, test_fraction=0.3, seed=1)
    assert again.index.equals(train.index)


def test_validation_split_is_a_disjoint_subset() -> None:
    train, _ = random_split(ratings())
    fit, validation = validation_split(train, fraction=0.1)
    assert len(fit) + len(validation) == len(train)
    assert set(fit.index).isdisjoint(validation.index)
    assert set(validation.index) <= set(train.index)


def test_bad_sizes_raise() -> None:
    with pytest.raises(DataError):
        random_split(ratings().iloc[:1])
    with pytest.raises(DataError):
        per_user_split(ratings(), test_fraction=1.5)
