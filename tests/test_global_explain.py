"""Tests for churn.global_explain: the risk-stratified samples and the beeswarm's points."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _explain_fakes import LinearChurnModel, make_customers

from churn import explain as E
from churn import global_explain as G
from churn import schema


@pytest.fixture(scope="module")
def expl():
    data = make_customers(1_000, seed=2)
    return E.explain(LinearChurnModel().fit(data), data)


def _bands(prob, bands=10):
    """Each customer's risk band, computed independently: rank by probability (ties by
    position), band b holds ranks [b*n/bands, (b+1)*n/bands) as np.array_split sizes them."""
    n = len(prob)
    rank = np.empty(n, dtype=int)
    rank[np.lexsort((np.arange(n), prob))] = np.arange(n)
    sizes = [n // bands + (1 if b < n % bands else 0) for b in range(bands)]
    edges = np.cumsum([0] + sizes)
    return np.searchsorted(edges, rank, side="right") - 1


def test_stratified_positions_keep_each_risk_band_share():
    prob = np.random.default_rng(0).beta(2, 5, size=1_003)
    pos = G.stratified_positions(prob, 250, seed=3)
    assert len(pos) == 250 == len(set(pos.tolist()))
    assert list(pos) == sorted(pos)
    counts = np.bincount(_bands(prob)[pos], minlength=10)
    # 1,003 customers: bands of 101,101,101,100,...; 250 × 101/1003 = 25.17, × 100/1003 = 24.93
    # → 25 each (the remainders go to the 100-customer bands' larger fraction)
    assert counts.tolist() == [25] * 10
    # the sample's risk mix is the population's, within a band's width
    assert abs(np.median(prob[pos]) - np.median(prob)) < np.diff(np.quantile(prob, [.4, .6]))[0]


def test_stratified_positions_are_repeatable_and_seeded():
    prob = np.random.default_rng(1).uniform(size=5_000)
    a = G.stratified_positions(prob, 500, seed=0)
    assert np.array_equal(a, G.stratified_positions(prob, 500, seed=0))
    assert not np.array_equal(a, G.stratified_positions(prob, 500, seed=1))
    assert np.bincount(_bands(prob)[a], minlength=10).tolist() == [50] * 10


def test_stratified_positions_uneven_allocation_adds_up():
    prob = np.linspace(0, 1, 95)
    pos = G.stratified_positions(prob, 13, seed=0)
    counts = np.bincount(_bands(prob)[pos], minlength=10)
    assert counts.sum() == 13 and counts.max() - counts.min() <= 1
    # ties in the remainders go to the lower bands first: 13 × 10/95 = 1.37 (five bands of 10),
    # 13 × 9/95 = 1.23 (five of 9) → the three extra go to the first three bands of 10
    assert counts.tolist() == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1]


def test_stratified_positions_small_population_is_everyone():
    assert G.stratified_positions([0.2, 0.9, 0.1], 10).tolist() == [0, 1, 2]
    assert G.stratified_positions([], 10).tolist() == []


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=0), "size=0 must be a whole number of at least 1"),
    (dict(size=2.5), "size=2.5 must be a whole number of at least 1"),
    (dict(size=True), "size=True must be a whole number of at least 1"),
    (dict(size=5, bands=0), "bands=0 must be a whole number of at least 1"),
])
def test_stratified_positions_bad_input(kwargs, message):
    with pytest.raises(ValueError) as err:
        G.stratified_positions([0.1, 0.2], **kwargs)
    assert str(err.value) == message


def test_beeswarm_points_match_the_explanation(expl):
    pts = G.beeswarm_points(expl, customers=200, seed=4)
    pos = G.stratified_positions(expl.prob, 200, seed=4)
    assert len(pts) == 200 * len(schema.FEATURES)
    assert list(pts.columns) == ["feature", "label", "order", "pp", "jitter", "colour", "number",
                                 "category"]
    ranked = E.global_importance(expl)["feature"].tolist()     # over ALL explained customers
    assert pts["feature"].drop_duplicates().tolist() == ranked
    assert pts.groupby("feature")["order"].first().to_dict() == {f: i for i, f in
                                                                 enumerate(ranked)}
    t = pts[pts["feature"] == "tenure"]
    np.testing.assert_allclose(t["pp"], expl.pp["tenure"].to_numpy()[pos], rtol=1e-6)
    np.testing.assert_allclose(t["number"], expl.values["tenure"].to_numpy(float)[pos])
    assert (t["category"] == "").all()
    by_value = t.sort_values("number")        # numeric colour: by rank of value, 0 to 1
    assert by_value["colour"].is_monotonic_increasing
    assert by_value["colour"].min() == 0 and by_value["colour"].max() == 1
    c = pts[pts["feature"] == "Contract"]
    assert c["category"].tolist() == expl.values["Contract"].astype(str).to_numpy()[pos].tolist()
    assert c["number"].isna().all()
    want = c["category"].map({"Month-to-month": 0.0, "One year": 0.5, "Two year": 1.0})
    np.testing.assert_allclose(c["colour"], want)
    s = pts[pts["feature"] == "SeniorCitizen"]
    assert set(s["category"]) <= {"No", "Yes"}
    assert pts["jitter"].between(-0.35, 0.35).all()
    pd.testing.assert_frame_equal(pts, G.beeswarm_points(expl, customers=200, seed=4))


def test_beeswarm_points_blank_total_charges_is_zero_billed(expl):
    blank = expl.take(range(50))
    blank.values = blank.values.copy()
    blank.values["TotalCharges"] = np.nan
    pts = G.beeswarm_points(blank, customers=500)
    assert len(pts) == 50 * len(schema.FEATURES)
    assert (pts.loc[pts["feature"] == "TotalCharges", "number"] == 0).all()


def test_beeswarm_points_bad_input(expl):
    with pytest.raises(ValueError) as err:
        G.beeswarm_points(expl, customers=0)
    assert str(err.value) == "customers=0 must be a whole number of at least 1"


def test_dependence_positions(expl):
    pos = G.dependence_positions(expl, 300, seed=0)
    assert np.array_equal(pos, G.stratified_positions(expl.prob, 300, seed=0))
    assert len(G.dependence_positions(expl)) == len(expl)  # 1,000 ≤ 1,500: everyone
