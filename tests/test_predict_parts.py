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


def test_offer_records_texts_equal_pandas_conversions():
    """offer_records converts its text columns value by value; the texts are pandas'
    ``astype(str)`` / ``fillna("")`` / ``str.lower`` ones, odd values included."""
    import pandas as pd

    from churn import predict as P

    nan = float("nan")
    ranked = pd.DataFrame({
        "customerID": ["0001-A", "0001-A", 12, "0002-B"],
        "rank": [1, 2, 1, 1],
        "offer_id": ["loyalty_credit", "contract_upgrade", "x", "y"],
        "offer_name": ["Loyalty credit", "Contract upgrade", None, 3.5],
        "offer_cost": [20.0, 35.0, 0.0, 1.0],
        "p_accept": [0.41, 0.2, 0.5, 0.9],
        "from_rules": [True, False, True, False],
        "rule_reason": ["Contract is Month-to-month", nan, None, ""],
        "expected_saved_value": [100.0, 20.0, 1.0, 2.0],
        "expected_net_value": [80.0, -15.0, 1.0, 1.0],
        "ranking_score": [80.0, -19.0, 1.0, 1.0],
        "uplift": [0.05, nan, 0.1, -0.2],
        "basis": ["learned", "assumed", "Learned (history)", nan],
    })
    out = P.offer_records(ranked)
    # the reference: the pandas conversions the function used before
    ids = ranked["customerID"].astype(str).tolist()
    reason = ranked["rule_reason"].fillna("").astype(str).tolist()
    effect = np.where(np.char.startswith(
        ranked["basis"].astype(str).str.lower().to_numpy().astype(str), "learn"),
        P.EFFECT_LEARNED, P.EFFECT_ASSUMED).tolist()
    flat = [r for cid in dict.fromkeys(ids) for r in out[cid]]
    assert list(out) == list(dict.fromkeys(ids))
    assert [r["offer_id"] for r in flat] == ranked["offer_id"].astype(str).tolist()
    assert [r["name"] for r in flat] == ranked["offer_name"].astype(str).tolist()
    assert [r["rule_reason"] for r in flat] == reason
    assert [r["effect"] for r in flat] == effect == ["learned", "assumed", "learned", "assumed"]
    assert [r["reason"] for r in flat] == [
        "Contract is Month-to-month", "No rule proposed it; likely to be accepted "
        "(P(accept) 20%)", "No rule proposed it; likely to be accepted (P(accept) 50%)",
        "No rule proposed it; likely to be accepted (P(accept) 90%)"]
    assert [r["uplift"] for r in flat] == [0.05, None, 0.1, None]
