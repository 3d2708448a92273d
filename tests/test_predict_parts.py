"""The one-customer shortcuts inside the shared scoring functions give the numbers of the
general path, bit for bit (the whole-answer check is tests/test_predict_fast.py)."""
from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from churn import uplift as U


@pytest.fixture(scope="module")
def boosters():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(np.float32)
    dm = xgb.DMatrix(X, label=y, nthread=1)
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "verbosity": 0}
    return (xgb.train({**params, "objective": "binary:logistic"}, dm, 12),
            xgb.train({**params, "objective": "reg:squarederror"}, dm, 12), X)


@pytest.mark.parametrize("rows", [1, 3, U._DIRECT_ROWS - 1, U._DIRECT_ROWS, 200])
@pytest.mark.parametrize("margin", [False, True])
def test_booster_predict_equals_xgboost_predict(boosters, rows, margin):
    clf, reg, X = boosters
    dm = xgb.DMatrix(X[:rows], nthread=1)
    for booster in (clf, reg):
        want = booster.predict(dm, output_margin=margin)
        got = U._booster_predict(booster, dm, margin)
        assert got.dtype == want.dtype == np.float32
        assert got.shape == want.shape == (rows,)
        np.testing.assert_array_equal(got, want)


def test_booster_predict_output_is_its_own_copy(boosters):
    clf, _, X = boosters
    dm = xgb.DMatrix(X[:1], nthread=1)
    first = U._booster_predict(clf, dm)
    kept = first.copy()
    U._booster_predict(clf, xgb.DMatrix(X[1:2], nthread=1))  # XGBoost reuses its buffer
    np.testing.assert_array_equal(first, kept)


def _customers(n: int):
    from churn import schema

    return schema.template_frame().sample(n, replace=True, random_state=3).reset_index(drop=True)


def test_shared_encoding_builds_one_feature_frame_equal_to_the_plain_one():
    import pandas as pd

    from churn import schema

    df = _customers(2)
    other = df.copy()
    plain_X, plain_hot = schema.feature_frame(df), schema.one_hot(schema.feature_frame(df))
    with schema.shared_encoding(df):
        X = schema.feature_frame(df)
        assert schema.feature_frame(df) is X            # built once
        assert schema.feature_frame(other) is not schema.feature_frame(other)  # not shared
        hot = schema.one_hot(X)
        hot[:] = -1.0                                   # a caller's change stays its own
        np.testing.assert_array_equal(schema.one_hot(X), plain_hot)
        np.testing.assert_array_equal(schema.one_hot(X, dtype=np.float32),
                                      plain_hot.astype(np.float32))
    pd.testing.assert_frame_equal(X, plain_X)
    assert schema.feature_frame(df) is not X            # the block is over


def test_shared_encoding_leaves_large_frames_alone():
    from churn import schema

    df = _customers(schema._SMALL_FRAME)
    with schema.shared_encoding(df):
        assert schema.feature_frame(df) is not schema.feature_frame(df)


def test_design_columns_of_a_few_rows_equal_the_pandas_path(monkeypatch):
    from churn import ltv, schema

    df = _customers(5)
    df.loc[1, "Contract"] = None              # odd values the model never sees still agree
    df.loc[2, "PaymentMethod"] = float("nan")
    df["InternetService"] = df["InternetService"].astype("category")
    few = ltv._design_columns(df)
    monkeypatch.setattr(schema, "_SMALL_FRAME", 0)
    many = ltv._design_columns(df)
    assert list(few) == list(many)
    for name in few:
        np.testing.assert_array_equal(few[name], many[name], err_msg=name)
