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
