"""Tests of churn.catboost_shap: SHAP values from per-tree leaf tables equal CatBoost's own
``ShapValues`` (the independent reference) for every row, tree depth and both classes of splits
(numbers, one-hot and CTR categories), and the model falls back to CatBoost when they differ."""
from __future__ import annotations

import numpy as np
import pytest
from catboost import Pool

from churn import catboost_shap, models, schema
from churn.synth import generate_customers


@pytest.fixture(scope="module")
def data():
    df = generate_customers(3000, 31)
    X = models._check_frame(df, "test")
    return X, df[schema.TARGET].to_numpy()


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_tables_give_catboosts_own_shap_values(data, depth):
    X, y = data
    fam = models.CatBoostFamily({"depth": depth, "iterations": 60, "learning_rate": 0.2},
                                seed=3, n_jobs=1).fit(X, y)
    pool = Pool(X, cat_features=fam.CAT_INDEX)
    ref = np.asarray(fam.estimator_.get_feature_importance(pool, type="ShapValues"))
    tables = catboost_shap.ShapTables.build(fam.estimator_, X.shape[1])
    assert tables is not None
    leaves = np.asarray(fam.estimator_.calc_leaf_indexes(pool))
    got = tables.values(leaves, X.shape[1])
    np.testing.assert_allclose(got, ref[:, :-1], rtol=0, atol=1e-12)
    assert tables.base == pytest.approx(ref[0, -1], abs=1e-12)
    kinds = {s["split_type"] for s in _splits(fam.estimator_)}
    if depth == 6:
        assert {"FloatFeature", "OnlineCtr"} <= kinds         # both kinds of split exercised
    base, contrib = fam.contributions(X)                      # through the family
    assert fam._shap_tables_ is not None
    np.testing.assert_allclose(base + contrib.sum(axis=1), fam.margin(X), atol=1e-9)
    np.testing.assert_allclose(contrib, ref[:, :-1], atol=1e-9)


def test_a_failed_check_falls_back_to_catboost(data, monkeypatch):
    X, y = data
    fam = models.CatBoostFamily({"depth": 3, "iterations": 30}, seed=1, n_jobs=1).fit(X, y)
    monkeypatch.setattr(catboost_shap, "CHECK_TOLERANCE", -1.0)     # nothing passes
    base, contrib = fam.contributions(X.iloc[:200])
    assert fam._shap_tables_ is None
    ref = np.asarray(fam.estimator_.get_feature_importance(
        Pool(X.iloc[:200], cat_features=fam.CAT_INDEX), type="ShapValues"))
    np.testing.assert_allclose(contrib, ref[:, :-1], atol=1e-9)


def _splits(model):
    import json
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    model.save_model(path, format="json")
    with open(path) as fh:
        dump = json.load(fh)
    os.remove(path)
    return [s for t in dump["oblivious_trees"] for s in t["splits"]]
