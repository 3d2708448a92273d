"""Tests for churn.explain: log-odds → percentage points, drivers, sentences, global views."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _explain_fakes import LinearChurnModel, make_customers

from churn import explain as E
from churn import schema

F = schema.FEATURES


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@pytest.fixture(scope="module")
def data():
    return make_customers(800, seed=1)


@pytest.fixture(scope="module")
def model(data):
    return LinearChurnModel().fit(data)


@pytest.fixture(scope="module")
def expl(model, data):
    return E.explain(model, data)


# --- conversion -------------------------------------------------------------------------------
def test_percentage_points_hand_computed():
    # base log-odds 0 → p0 = 0.5; contributions 1 and 1 → logit 2, p = sigmoid(2) = 0.880797.
    p0, p, pp = E.to_percentage_points(0.0, np.array([[1.0, 1.0], [2.0, -0.5]]))
    assert p0 == 0.5
    assert p[0] == pytest.approx(0.8807970779778823, abs=1e-15)
    # Each feature gets half of the 38.08 point move.
    assert pp[0] == pytest.approx([19.039853898894116, 19.039853898894116], abs=1e-12)
    # Row 2: total 1.5, p = sigmoid(1.5) = 0.817574; move 31.757 pp, split 2 : -0.5.
    move = 100 * (1 / (1 + math.exp(-1.5)) - 0.5)
    assert pp[1] == pytest.approx([move * 2 / 1.5, move * -0.5 / 1.5], abs=1e-12)


def test_percentage_points_zero_total_uses_slope():
    # Contributions that cancel: the probability does not move, so each feature gets its
    # log-odds times the slope p0(1 − p0), and the points still add up to zero.
    base = math.log(0.2 / 0.8)  # p0 = 0.2, slope 0.16
    p0, p, pp = E.to_percentage_points(base, np.array([[0.3, -0.3], [0.0, 0.0]]))
    assert p0 == pytest.approx(0.2)
    assert p == pytest.approx([0.2, 0.2])
    assert pp[0] == pytest.approx([100 * 0.3 * 0.16, -100 * 0.3 * 0.16])
    assert pp[1].tolist() == [0.0, 0.0]


def test_percentage_points_keep_sign_and_rank(expl):
    P, L = expl.pp.to_numpy(), expl.logit.to_numpy()
    assert (np.sign(P) == np.sign(L)).all()
    # Within one customer the allocation is a positive multiple of the log-odds.
    i = 7
    assert np.argsort(P[i]).tolist() == np.argsort(L[i]).tolist()


def test_percentage_points_rejects_bad_input():
    with pytest.raises(ValueError, match=r"^logit_contrib has 1 dimension\(s\); expected a 2-D "
                                         r"table \(customers × features\)$"):
        E.to_percentage_points(0.0, np.zeros(3))
    with pytest.raises(ValueError, match=r"^base_logit=nan is not a finite number; the model's "
                                         r"contributions are broken$"):
        E.to_percentage_points(float("nan"), np.zeros((1, 3)))


# --- explain ----------------------------------------------------------------------------------
def test_explain_adds_up_exactly(expl, model, data):
    assert list(expl.pp.columns) == F
    assert expl.pp.index.equals(data.index)
    np.testing.assert_allclose(expl.prob, model.predict_proba(data), atol=1e-12)
    total = 100 * expl.base_prob + expl.pp.sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, 100 * expl.prob, atol=1e-9)
    assert expl.base_prob == pytest.approx(sigmoid(model.base_logit_))
    assert expl.ids.tolist() == data[schema.ID].tolist()
    assert expl.values.equals(data[F])


def test_explain_keeps_index_and_works_without_ids(model, data):
    sub = data.iloc[[5, 2, 9]].drop(columns=[schema.ID, schema.TARGET])
    ex = E.explain(model, sub)
    assert ex.ids is None
    assert ex.pp.index.tolist() == [5, 2, 9]
    np.testing.assert_allclose(ex.prob, model.predict_proba(sub), atol=1e-12)


def test_explain_rejects_non_canonical(model, data):
    with pytest.raises(ValueError, match=r"^explain\(\) needs a canonical frame; missing "
                                         r"column\(s\) \['tenure'\]$"):
        E.explain(model, data.drop(columns=["tenure"]))


def test_take(expl):
    sub = expl.take([3, 1])
    assert sub.pp.index.tolist() == [3, 1]
    assert sub.prob.tolist() == [expl.prob[3], expl.prob[1]]
    assert sub.ids.tolist() == [expl.ids[3], expl.ids[1]]


# --- sentences --------------------------------------------------------------------------------
@pytest.mark.parametrize("feature, value, pp, text", [
    ("Contract", "Month-to-month", 14.2,
     'Contract "Month-to-month" raises the churn risk by 14.2 points'),
    ("Contract", "Two year", -9.04, 'Contract "Two year" lowers the churn risk by 9.0 points'),
    ("tenure", 3, 5.0, "Tenure of 3 months raises the churn risk by 5.0 points"),
    ("tenure", 1, -0.04, "Tenure of 1 month lowers the churn risk by less than 0.1 points"),
    ("MonthlyCharges", 89.1, -3.26, "Monthly charges of $89.10 lower the churn risk by 3.3 points"),
    ("TotalCharges", 1234.5, 0.0, "Total charges of $1,234.50 do not change the churn risk"),
    ("TotalCharges", float("nan"), 2.0, "Not being billed yet raises the churn risk by 2.0 points"),
    ("SeniorCitizen", 1, 2.04, "Being a senior citizen raises the churn risk by 2.0 points"),
    ("SeniorCitizen", 0, -0.5, "Not being a senior citizen lowers the churn risk by 0.5 points"),
    ("OnlineSecurity", schema.NO_INTERNET, -1.0,
     'Online security "No internet service" lowers the churn risk by 1.0 points'),
])
def test_driver_sentence(feature, value, pp, text):
    assert E.driver_sentence(feature, value, pp) == text


def test_driver_sentence_rejects_unknown_feature():
    with pytest.raises(ValueError, match=r"^driver_sentence: 'Churn' is not a feature of the "
                                         r"schema \(features: gender, SeniorCitizen, "):
        E.driver_sentence("Churn", 1, 1.0)


@pytest.mark.parametrize("feature, value, text", [
    ("SeniorCitizen", 1, "Yes"), ("tenure", 1, "1 month"), ("tenure", 24, "24 months"),
    ("MonthlyCharges", 70.35, "$70.35"), ("TotalCharges", float("nan"), "not yet billed"),
    ("TotalCharges", 8684.8, "$8,684.80"), ("Contract", "One year", "One year"),
])
def test_display_value(feature, value, text):
    assert E.display_value(feature, value) == text


# --- drivers ----------------------------------------------------------------------------------
def _naive_drivers(expl, k, direction):
    """Row by row, the obvious way: an independent check of the vectorised top_drivers."""
    rows = []
    for i in range(len(expl)):
        pp = expl.pp.iloc[i]
        if direction == "up":
            items = sorted([(v, f) for f, v in pp.items() if v > 0], key=lambda t: -t[0])
        elif direction == "down":
            items = sorted([(v, f) for f, v in pp.items() if v < 0], key=lambda t: t[0])
        else:
            items = sorted([(v, f) for f, v in pp.items()], key=lambda t: -abs(t[0]))
        row = {}
        for j in range(k):
            if j < len(items):
                v, f = items[j]
                row[f"driver_{j + 1}"] = f
                row[f"driver_{j + 1}_pp"] = v
                row[f"driver_{j + 1}_text"] = E.driver_sentence(f, expl.values.iloc[i][f], v)
            else:
                row[f"driver_{j + 1}"] = ""
                row[f"driver_{j + 1}_pp"] = np.nan
                row[f"driver_{j + 1}_text"] = ""
        rows.append(row)
    return pd.DataFrame(rows, index=expl.pp.index)


@pytest.mark.parametrize("direction, k", [("up", 3), ("down", 2), ("abs", 5)])
def test_top_drivers_match_naive(expl, direction, k):
    got = E.top_drivers(expl, k=k, direction=direction)
    want = _naive_drivers(expl, k, direction)[got.columns]
    assert list(got.columns) == (
        [f"driver_{j}" for j in range(1, k + 1)] + [f"driver_{j}_pp" for j in range(1, k + 1)]
        + [f"driver_{j}_text" for j in range(1, k + 1)])
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_top_drivers_empty_slots_for_low_risk_customer(model, data):
    # A customer the model finds safe in nearly every respect has fewer than k risk drivers.
    ex = E.explain(model, data)
    n_up = (ex.pp > 0).sum(axis=1)
    i = int(np.argmin(n_up.to_numpy()))
    k = int(n_up.iloc[i]) + 1
    td = E.top_drivers(ex, k=k)
    assert td.iloc[i][f"driver_{k}"] == ""
    assert np.isnan(td.iloc[i][f"driver_{k}_pp"])
    assert td.iloc[i][f"driver_{k}_text"] == ""


def test_top_drivers_validates(expl):
    with pytest.raises(ValueError, match=r"^top_drivers: k=0 must be an integer from 1 to 19 "
                                         r"\(the number of features\)$"):
        E.top_drivers(expl, k=0)
    with pytest.raises(ValueError, match=r"^top_drivers: direction='sideways'; use 'up', "
                                         r"'down' or 'abs'$"):
        E.top_drivers(expl, direction="sideways")


def test_top_drivers_all_features_and_empty(expl):
    td = E.top_drivers(expl, k=len(F), direction="abs")
    assert set(td.iloc[0][[f"driver_{j}" for j in range(1, len(F) + 1)]]) == set(F)
    empty = E.top_drivers(expl.take([]), k=3)
    assert len(empty) == 0 and list(empty.columns)[:3] == ["driver_1", "driver_2", "driver_3"]


# --- waterfall --------------------------------------------------------------------------------
def test_waterfall_adds_up(expl):
    w = E.waterfall_data(expl, 4, k=5)
    assert w["measure"].tolist() == ["absolute"] + ["relative"] * 6 + ["total"]
    assert w["label"].iloc[0] == "Model baseline"
    assert w["label"].iloc[-2] == "All other features"
    assert w["value_display"].iloc[-2] == "14 features"
    assert w["pp"].iloc[0] == pytest.approx(100 * expl.base_prob)
    assert w["pp"].iloc[-1] == pytest.approx(100 * expl.prob[4])
    assert w["pp"].iloc[0] + w["pp"].iloc[1:-1].sum() == pytest.approx(w["pp"].iloc[-1], abs=1e-9)
    pp4 = expl.pp.iloc[4]
    top5 = pp4.abs().sort_values(ascending=False).index[:5].tolist()
    assert w["feature"].iloc[1:6].tolist() == top5
    f = top5[0]
    assert w["value_display"].iloc[1] == E.display_value(f, expl.values.iloc[4][f])


def test_waterfall_without_other_bucket_and_validation(expl):
    w = E.waterfall_data(expl, 0, k=len(F))
    assert "All other features" not in w["label"].tolist()
    assert len(w) == len(F) + 2
    with pytest.raises(ValueError, match=r"^waterfall_data: i=800 is not a row position of this "
                                         r"explanation \(0\.\.799\)$"):
        E.waterfall_data(expl, 800)


# --- global views -----------------------------------------------------------------------------
def test_global_importance(expl):
    g = E.global_importance(expl)
    assert list(g.columns) == ["feature", "label", "mean_abs_pp", "mean_pp"]
    assert sorted(g["feature"]) == sorted(F)
    assert g["mean_abs_pp"].is_monotonic_decreasing
    row = g.set_index("feature").loc["tenure"]
    assert row["label"] == "Tenure"
    assert row["mean_abs_pp"] == pytest.approx(np.mean(np.abs(expl.pp["tenure"].to_numpy())))
    assert row["mean_pp"] == pytest.approx(np.mean(expl.pp["tenure"].to_numpy()))
    # The fake data's churn is driven most by the contract.
    assert g["feature"].iloc[0] == "Contract"


def test_dependence_data(expl):
    d = E.dependence_data(expl, "tenure", "Contract")
    assert list(d.columns) == ["x", "x_display", "pp", "colour_value", "colour_display", "colour"]
    assert d["x"].tolist() == expl.values["tenure"].astype(float).tolist()
    assert d["pp"].tolist() == expl.pp["tenure"].tolist()
    assert d["colour_display"].tolist() == expl.values["Contract"].tolist()
    d2 = E.dependence_data(expl, "Contract", "TotalCharges")
    assert set(d2["x"]) <= set(schema.BY_NAME["Contract"].values)
    with pytest.raises(ValueError, match=r"^dependence_data: color_by='Churn' is not a feature "):
        E.dependence_data(expl, "tenure", "Churn")


def test_segment_churn_rates_tenure_bands(data, expl):
    s = E.segment_churn_rates(data, "tenure", prob=expl.prob)
    assert s["segment"].tolist() == ["0-6", "7-12", "13-24", "25-48", "49-72"]
    t = data["tenure"]
    band = data[(t >= 7) & (t <= 12)]
    row = s.set_index("segment").loc["7-12"]
    assert row["customers"] == len(band)
    assert row["churn_rate"] == pytest.approx(band["Churn"].mean())
    assert row["predicted_rate"] == pytest.approx(expl.prob[band.index].mean())
    assert s["customers"].sum() == len(data)


def test_segment_churn_rates_other_kinds(data):
    c = E.segment_churn_rates(data, "Contract")
    assert c["segment"].tolist() == ["Month-to-month", "One year", "Two year"]
    assert "predicted_rate" not in c.columns
    sc = E.segment_churn_rates(data, "SeniorCitizen")
    assert sc["segment"].tolist() == ["No", "Yes"]
    assert sc.set_index("segment").loc["Yes", "churn_rate"] == pytest.approx(
        data.loc[data["SeniorCitizen"] == 1, "Churn"].mean())
    m = E.segment_churn_rates(data, "TotalCharges")
    assert m["segment"].iloc[0] == "Not yet billed"
    assert m["customers"].iloc[0] == data["TotalCharges"].isna().sum()
    assert len(m) == 6 and m["customers"].sum() == len(data)
    # quintiles: the billed customers split into five nearly equal bands
    assert m["customers"].iloc[1:].max() - m["customers"].iloc[1:].min() <= 2


def test_segment_churn_rates_validates(data):
    with pytest.raises(ValueError, match=r"^segment_churn_rates: the frame has no Churn column; "
                                         r"observed churn rates need customers whose outcome is "
                                         r"known \(the training sample\)$"):
        E.segment_churn_rates(data.drop(columns=["Churn"]), "tenure")
    with pytest.raises(ValueError, match=r"^segment_churn_rates: prob has 3 values for 800 "
                                         r"customers$"):
        E.segment_churn_rates(data, "tenure", prob=[0.1, 0.2, 0.3])


# --- sampling and caching ---------------------------------------------------------------------
class CountingModel:
    """Wraps a model and counts contributions() calls."""

    def __init__(self, inner, version="fake-1"):
        self.inner, self.version, self.calls = inner, version, 0

    def predict_proba(self, df):
        return self.inner.predict_proba(df)

    def contributions(self, df):
        self.calls += 1
        return self.inner.contributions(df)


def test_global_explanation_samples(model, data):
    assert len(E.global_explanation(model, data)) == 800  # default 10,000 covers all
    a = E.global_explanation(model, data, sample_size=100, seed=5)
    b = E.global_explanation(model, data, sample_size=100, seed=5)
    c = E.global_explanation(model, data, sample_size=100, seed=6)
    assert len(a) == 100 and a.ids.tolist() == b.ids.tolist() and a.ids.tolist() != c.ids.tolist()
    assert set(a.ids) <= set(data[schema.ID])
    assert len(E.global_explanation(model, data, sample_size=None)) == 800
    with pytest.raises(ValueError, match=r"^sample_size=0 must be a positive whole number of "
                                         r"customers, or None for all of them$"):
        E.global_explanation(model, data, sample_size=0)


def test_cached_global_explanation(model, data, tmp_path):
    from churn.cache import DiskCache

    disk = DiskCache(tmp_path / "cache")
    counting = CountingModel(model)
    first = E.cached_global_explanation(counting, data, disk, sample_size=200, seed=1)
    # A new cache object on the same folder (as after a restart of the server) finds it.
    second = E.cached_global_explanation(counting, data, DiskCache(tmp_path / "cache"),
                                         sample_size=200, seed=1)
    assert counting.calls == 1
    pd.testing.assert_frame_equal(first.pp, second.pp)
    pd.testing.assert_frame_equal(first.values, second.values)
    np.testing.assert_array_equal(first.prob, second.prob)
    assert first.ids.tolist() == second.ids.tolist()
    assert second.base_prob == first.base_prob
    assert E.top_drivers(second).equals(E.top_drivers(first))
    # A new sample size, new data or a new model version is a new computation.
    E.cached_global_explanation(counting, data, disk, sample_size=300, seed=1)
    E.cached_global_explanation(counting, data.iloc[:-1], disk, sample_size=200, seed=1)
    E.cached_global_explanation(CountingModel(model, "fake-2"), data, disk, 200, 1)
    assert counting.calls == 3 and len(list((tmp_path / "cache").glob("explanation-*"))) == 4
    key = E.explanation_key(counting, data, 200, 1)
    assert key.startswith("explain/fake-1/") and key.endswith("/200/1")
    # None: no caching, computed every time
    E.cached_global_explanation(counting, data, None, sample_size=200, seed=1)
    assert counting.calls == 4


def test_model_without_version_cannot_be_cached(data):
    class NoVersion:
        pass

    with pytest.raises(ValueError, match=r"^the model has no `version`; cached explanations "
                                         r"need one to know when the model changes$"):
        E.explanation_key(NoVersion(), data, 10, 0)


def test_unit_note_names_the_unit():
    assert "percentage points" in E.UNIT_NOTE and "log-odds" in E.UNIT_NOTE


# --- every real model family ------------------------------------------------------------------
FAMILIES = ("lr", "rf", "xgb", "cat")


@pytest.fixture(scope="module")
def real():
    from _explain_fakes import real_models

    return real_models(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_real_family_adds_up_exactly(real, family):
    models, data = real
    model = models[family]
    sub = data.iloc[:300]
    ex = E.explain(model, sub)
    np.testing.assert_allclose(ex.prob, model.predict_proba(sub), rtol=0, atol=1e-12)
    total = 100 * ex.base_prob + ex.pp.sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, 100 * ex.prob, rtol=0, atol=1e-9)
    base_logit, contrib = model.contributions(sub)
    assert ex.base_prob == pytest.approx(sigmoid(base_logit), abs=1e-15)
    assert (np.sign(ex.pp.to_numpy()) == np.sign(contrib.to_numpy())).all()
    td = E.top_drivers(ex, k=3)
    top = ex.pp.idxmax(axis=1)
    has_up = (ex.pp.max(axis=1) > 0).to_numpy()
    assert (td["driver_1"].to_numpy()[has_up] == top.to_numpy()[has_up]).all()
    w = E.waterfall_data(ex, 0)
    assert w["pp"].iloc[:-1].sum() == pytest.approx(w["pp"].iloc[-1], abs=1e-9)


