"""Tests for churn.whatif: the what-if form's widgets, rules and comparison table."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _explain_fakes import LinearChurnModel, make_customers

from churn import explain as E
from churn import schema
from churn import whatif as W

ADDONS = ["OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
          "StreamingMovies"]


def customer(**over) -> pd.Series:
    base = {
        schema.ID: "1234-ABCDE", "gender": "Female", "SeniorCitizen": 0, "Partner": "Yes",
        "Dependents": "No", "tenure": 10, "PhoneService": "Yes", "MultipleLines": "No",
        "InternetService": "Fiber optic", "OnlineSecurity": "No", "OnlineBackup": "Yes",
        "DeviceProtection": "No", "TechSupport": "No", "StreamingTV": "Yes",
        "StreamingMovies": "No", "Contract": "Month-to-month", "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check", "MonthlyCharges": 80.5, "TotalCharges": 812.3,
        "Churn": 1,
    }
    base.update(over)
    return pd.Series(base, dtype=object)


# --- widget specs -----------------------------------------------------------------------------
def test_widget_specs_cover_every_editable_feature():
    specs = W.widget_specs()
    assert [s.feature for s in specs] == schema.EDITABLE_FEATURES
    assert len(specs) == 19
    for s in specs:
        col = schema.BY_NAME[s.feature]
        assert s.label == col.label and s.help == col.help
        assert s.key == f"whatif_{s.feature}"
        assert s.group in ("Customer", "Account", "Services")


def test_widget_specs_kinds_and_ranges():
    by = {s.feature: s for s in W.widget_specs()}
    t = by["tenure"]
    assert (t.widget, t.min_value, t.max_value, t.step, t.format) == ("slider", 0, 72, 1, "%d")
    m = by["MonthlyCharges"]
    assert (m.widget, m.min_value, m.max_value, m.step) == ("slider", 18.0, 120.0, 0.05)
    assert by["TotalCharges"].widget == "override"
    assert by["TotalCharges"].max_value == 100_000.0
    s = by["SeniorCitizen"]
    assert (s.widget, s.options, s.option_labels) == ("select", (0, 1), ("No", "Yes"))
    assert s.option_label(1) == "Yes" and s.option_label(0) == "No"
    c = by["Contract"]
    assert c.widget == "select" and c.options == ("Month-to-month", "One year", "Two year")
    assert by["OnlineSecurity"].parent == "InternetService"
    assert by["MultipleLines"].parent == "PhoneService"


def test_slider_bounds_widen_for_real_values():
    t = {s.feature: s for s in W.widget_specs()}["tenure"]
    assert t.bounds_for(30) == (0, 72)
    assert t.bounds_for(100) == (0, 100)
    m = {s.feature: s for s in W.widget_specs()}["MonthlyCharges"]
    assert m.bounds_for(15.5) == (15.5, 120.0)


# --- options ----------------------------------------------------------------------------------
def test_options_follow_the_parent():
    on = customer()
    off = customer(InternetService="No", **{a: schema.NO_INTERNET for a in ADDONS})
    assert W.options_for("OnlineSecurity", on) == ["No", "Yes"]
    assert W.options_for("OnlineSecurity", off) == ["No internet service"]
    assert W.options_for("MultipleLines", customer(PhoneService="No")) == ["No phone service"]
    assert W.options_for("MultipleLines", on) == ["No", "Yes"]
    assert W.options_for("Contract", on) == ["Month-to-month", "One year", "Two year"]
    assert W.options_for("SeniorCitizen", on) == [0, 1]
    with pytest.raises(ValueError, match=r"^options_for: 'tenure' is numeric; it has a range, "
                                         r"not options$"):
        W.options_for("tenure", on)
    with pytest.raises(ValueError, match=r"^options_for: 'customerID' is not a feature "):
        W.options_for("customerID", on)


# --- apply_changes ----------------------------------------------------------------------------
def test_no_changes_keeps_the_customer():
    c = customer()
    out = W.apply_changes(c, {})
    for f in schema.FEATURES:
        assert out[f] == c[f], f
    assert out[schema.ID] == "1234-ABCDE"


def test_internet_off_and_on_again():
    c = customer()
    off = W.apply_changes(c, {"InternetService": "No"})
    assert [off[a] for a in ADDONS] == [schema.NO_INTERNET] * 6
    back = W.apply_changes(off, {"InternetService": "DSL"})
    assert [back[a] for a in ADDONS] == ["No"] * 6
    # The input is never modified.
    assert c["InternetService"] == "Fiber optic" and c["OnlineBackup"] == "Yes"


def test_parent_wins_over_stale_child_values():
    # The page passes every widget's value; a stale add-on value must not break the rules.
    c = customer()
    out = W.apply_changes(c, {"InternetService": "No", "OnlineBackup": "Yes"})
    assert out["OnlineBackup"] == schema.NO_INTERNET
    off = W.apply_changes(c, {"InternetService": "No"})
    back = W.apply_changes(off, {"InternetService": "DSL", "TechSupport": schema.NO_INTERNET,
                                 "StreamingTV": "Yes"})
    assert back["TechSupport"] == "No" and back["StreamingTV"] == "Yes"


def test_multiple_lines_follow_phone_service():
    c = customer(MultipleLines="Yes")
    out = W.apply_changes(c, {"PhoneService": "No"})
    assert out["MultipleLines"] == schema.NO_PHONE
    assert W.apply_changes(out, {"PhoneService": "Yes"})["MultipleLines"] == "No"


def test_total_charges_follow_tenure_and_monthly():
    c = customer()
    out = W.apply_changes(c, {"tenure": 24})
    assert out["TotalCharges"] == pytest.approx(24 * 80.5)
    out = W.apply_changes(c, {"MonthlyCharges": 99.95})
    assert out["TotalCharges"] == pytest.approx(round(10 * 99.95, 2))
    # Unrelated changes, or a tenure "change" to the same value, keep the real total.
    assert W.apply_changes(c, {"Contract": "Two year", "tenure": 10})["TotalCharges"] == 812.3
    zero = W.apply_changes(c, {"tenure": 0})
    assert zero["tenure"] == 0 and math.isnan(zero["TotalCharges"])


def test_total_charges_override():
    c = customer()
    out = W.apply_changes(c, {"tenure": 24}, total_charges_override=2000)
    assert out["TotalCharges"] == 2000.0
    assert W.apply_changes(c, {"TotalCharges": 1500.5})["TotalCharges"] == 1500.5
    assert W.apply_changes(c, {"tenure": 24}, total_charges_override=None)["TotalCharges"] \
        == pytest.approx(1932.0)
    with pytest.raises(ValueError, match=r"^TotalCharges: an override \(100\) cannot be used with "
                                         r"tenure 0; customers with tenure 0 have not been billed "
                                         r"yet$"):
        W.apply_changes(c, {"tenure": 0}, total_charges_override=100)
    with pytest.raises(ValueError, match=r"^apply_changes: TotalCharges given twice \(1 in "
                                         r"changes and total_charges_override=2\)$"):
        W.apply_changes(c, {"TotalCharges": 1}, total_charges_override=2)


def test_types_are_canonical():
    out = W.apply_changes(customer(), {"tenure": 12.0, "SeniorCitizen": "Yes",
                                       "MonthlyCharges": 70})
    assert out["tenure"] == 12 and isinstance(out["tenure"], int)
    assert out["SeniorCitizen"] == 1 and isinstance(out["SeniorCitizen"], int)
    assert isinstance(out["MonthlyCharges"], float) and isinstance(out["TotalCharges"], float)
    df = W.customer_frame(out)
    assert len(df) == 1
    assert df["tenure"].dtype == np.int64 and df["TotalCharges"].dtype == float


@pytest.mark.parametrize("changes, message", [
    ({"Contract": "Three year"},
     r"^Contract: 'Three year' is not an allowed value; allowed: Month-to-month, One year, "
     r"Two year$"),
    ({"SeniorCitizen": 2}, r"^SeniorCitizen: 2 is not an allowed value; use 0/1 or No/Yes$"),
    ({"tenure": 121}, r"^tenure: 121 is outside the valid range 0 to 120$"),
    ({"tenure": -1}, r"^tenure: -1 is outside the valid range 0 to 120$"),
    ({"tenure": 2.5}, r"^tenure: 2\.5 is not a whole number of months$"),
    ({"MonthlyCharges": "lots"}, r"^MonthlyCharges: 'lots' is not a number$"),
    ({"MonthlyCharges": float("inf")}, r"^MonthlyCharges: inf is outside the valid range 0 to "
                                       r"1000$"),
    ({"Churn": 0}, r"^apply_changes: 'Churn' is not an editable feature \(editable: gender, "),
    ({"customerID": "x"}, r"^apply_changes: 'customerID' is not an editable feature "),
    ({"Colour": "red"}, r"^apply_changes: 'Colour' is not an editable feature "),
])
def test_bad_changes_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        W.apply_changes(customer(), changes)


def test_accepts_a_dict_and_rejects_incomplete_customers():
    out = W.apply_changes(customer().to_dict(), {"Contract": "One year"})
    assert out["Contract"] == "One year"
    with pytest.raises(ValueError, match=r"^apply_changes: the customer is missing column\(s\) "
                                         r"\['tenure'\]$"):
        W.apply_changes(customer().drop("tenure"), {})


# --- compare ----------------------------------------------------------------------------------
def test_compare():
    c = customer()
    new = W.apply_changes(c, {"tenure": 30, "SeniorCitizen": 1})
    cmp = W.compare(c, new)
    assert list(cmp.columns) == ["feature", "label", "original", "changed", "changed_flag"]
    assert cmp["feature"].tolist() == schema.FEATURES
    changed = cmp[cmp["changed_flag"]]
    assert changed["feature"].tolist() == ["SeniorCitizen", "tenure", "TotalCharges"]
    row = cmp.set_index("feature").loc["tenure"]
    assert (row["label"], row["original"], row["changed"]) == ("Tenure (months)", "10 months",
                                                               "30 months")
    s = cmp.set_index("feature").loc["SeniorCitizen"]
    assert (s["original"], s["changed"]) == ("No", "Yes")
    assert cmp.set_index("feature").loc["TotalCharges", "changed"] == "$2,415.00"
    assert not W.compare(c, c)["changed_flag"].any()
    z = W.compare(c, W.apply_changes(c, {"tenure": 0}))
    assert z.set_index("feature").loc["TotalCharges", "changed"] == "not yet billed"


# --- rescoring a changed customer -------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    return LinearChurnModel().fit(make_customers(800, seed=2))


def test_longer_tenure_and_two_year_contract_lower_the_risk(model):
    c = customer()
    before = E.explain(model, W.customer_frame(c))
    changed = W.apply_changes(c, {"tenure": 60, "Contract": "Two year"})
    after = E.explain(model, W.customer_frame(changed))
    assert after.prob[0] < before.prob[0] - 0.1
    np.testing.assert_allclose(after.prob, model.predict_proba(W.customer_frame(changed)),
                               atol=1e-12)
    assert 100 * after.base_prob + after.pp.iloc[0].sum() == pytest.approx(100 * after.prob[0])


def test_dependency_rule_matches_the_schema():
    # apply_changes applies the rule row by row; it must agree with schema.enforce_dependencies.
    data = make_customers(300, seed=5)
    rng = np.random.default_rng(0)
    for i in range(60):
        c = data.iloc[i]
        changes = {"InternetService": rng.choice(["DSL", "Fiber optic", "No"]),
                   "PhoneService": rng.choice(["Yes", "No"]),
                   "OnlineSecurity": rng.choice(["No", "Yes", schema.NO_INTERNET]),
                   "MultipleLines": rng.choice(["No", "Yes", schema.NO_PHONE])}
        got = W.apply_changes(c, changes)
        raw = c.copy()
        for k, v in changes.items():
            raw[k] = v
        want = schema.enforce_dependencies(pd.DataFrame([raw])).iloc[0]
        for col in schema.DEPENDENT_COLUMNS:
            assert got[col.name] == want[col.name], (i, col.name)


def test_customer_frame_is_canonical():
    c = customer(TotalCharges=float("nan"), tenure=0)
    df = W.customer_frame(c)
    assert list(df.columns) == list(c.index)
    assert df["SeniorCitizen"].dtype == np.int64 and df["Churn"].dtype == np.int64
    assert df["MonthlyCharges"].dtype == float and np.isnan(df["TotalCharges"].iloc[0])
    assert df["Contract"].iloc[0] == "Month-to-month" and df[schema.ID].iloc[0] == "1234-ABCDE"


# --- sweeps (issue 18) ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine():
    """A real `scoring.Engine` from small, quickly fitted parts (`_explain_fakes.fake_engine`):
    the linear churn model (exact, monotone in tenure and monthly charges), a survival model, an
    offer recommender with history for customers 0..299 (300..599 are cold-start), and the
    shipped catalogue."""
    from _explain_fakes import fake_engine

    return fake_engine(600, 300)


@pytest.fixture(scope="module")
def settings():
    from churn.config import BusinessSettings

    return BusinessSettings()


def _one_off(engine, customer, feature, value, settings):
    """The independent computation: the form's rules, then one customer scored alone."""
    changed = W.apply_changes(customer, {feature: value})
    return changed, engine.customer_view(W.customer_frame(changed), settings)


def test_sweep_values_numeric_grid_and_current_value():
    c = customer(tenure=13, MonthlyCharges=80.5)
    t = W.sweep_values("tenure", c)
    assert t[0] == 0 and t[-1] == 72 and 13 in t and t == sorted(set(t))
    assert len(W.sweep_values("tenure", None)) == 50  # 50 distinct whole months over 0..72
    m = W.sweep_values("MonthlyCharges", c)
    assert len(m) == 51 and m[0] == 18.0 and m[-1] == 120.0 and 80.5 in m
    assert W.sweep_values("MonthlyCharges", customer(MonthlyCharges=18.0)) == \
        W.sweep_values("MonthlyCharges", None)
    assert W.sweep_values("Contract", c) == ["Month-to-month", "One year", "Two year"]
    assert W.sweep_values("SeniorCitizen", c) == [0, 1]
    # an add-on needs internet service: without it the only level is "No internet service"
    off = W.apply_changes(c, {"InternetService": "No"})
    assert W.sweep_values("OnlineSecurity", off) == [schema.NO_INTERNET]
    assert W.sweep_values("OnlineSecurity", c) == ["No", "Yes"]


@pytest.mark.parametrize("feature, points, message", [
    ("TotalCharges", 50, "sweep: 'TotalCharges' cannot be swept; choose one of gender, "
                         "SeniorCitizen, Partner, Dependents, tenure, PhoneService, MultipleLines, "
                         "InternetService, OnlineSecurity, OnlineBackup, DeviceProtection, "
                         "TechSupport, StreamingTV, StreamingMovies, Contract, PaperlessBilling, "
                         "PaymentMethod, MonthlyCharges (TotalCharges follows tenure × monthly "
                         "charges)"),
    ("Churn", 50, "sweep: 'Churn' cannot be swept"),
    ("tenure", 1, "sweep: points=1 must be a whole number of at least 2"),
    ("tenure", 2.5, "sweep: points=2.5 must be a whole number of at least 2"),
])
def test_sweep_rejects_bad_arguments(feature, points, message):
    with pytest.raises(ValueError) as err:
        W.sweep_values(feature, customer(), points)
    assert str(err.value).startswith(message)


def test_variants_follow_the_rules_at_every_point():
    c = customer(tenure=10, MonthlyCharges=80.5, TotalCharges=812.3)  # not exactly 10 × 80.5
    for feature in W.SWEEP_FEATURES:
        values = W.sweep_values(feature, c)
        frame = W.variants(c, feature, values)
        assert len(frame) == len(values)
        assert list(frame[feature]) == [W._check_value(feature, v) for v in values]
        # each row is exactly what the form would make of that one change
        for i, v in enumerate(values):
            want = W.customer_frame(W.apply_changes(c, {feature: v}))
            pd.testing.assert_frame_equal(frame.iloc[[i]].reset_index(drop=True), want,
                                          check_dtype=True, obj=f"{feature}={v!r}")
        # the dependency rules hold at every point
        fixed = schema.enforce_dependencies(frame)
        pd.testing.assert_frame_equal(frame, fixed)
    # internet off: every add-on is "No internet service"; on again: "No" or the customer's own
    frame = W.variants(c, "InternetService", ["DSL", "Fiber optic", "No"])
    off = frame.iloc[2]
    assert all(off[a] == schema.NO_INTERNET for a in ADDONS)
    assert frame.iloc[1]["OnlineBackup"] == "Yes" and frame.iloc[0]["OnlineSecurity"] == "No"
    # TotalCharges follows tenure × monthly charges away from the customer's own value
    frame = W.variants(c, "tenure", [0, 10, 24])
    assert np.isnan(frame["TotalCharges"].iloc[0])           # tenure 0: not billed yet
    assert frame["TotalCharges"].iloc[1] == 812.3              # own value kept
    assert frame["TotalCharges"].iloc[2] == round(24 * 80.5, 2)
    frame = W.variants(c, "MonthlyCharges", [50.0])
    assert frame["TotalCharges"].iloc[0] == 500.0


@pytest.mark.parametrize("feature", ["tenure", "MonthlyCharges", "Contract", "InternetService",
                                     "OnlineSecurity", "SeniorCitizen", "PaymentMethod"])
@pytest.mark.parametrize("row", [3, 450])  # with offer history, cold start
def test_each_sweep_point_equals_a_one_off_rescore(engine, settings, feature, row):
    c = engine.customers.iloc[row]
    sw = W.sweep(engine, c, feature, settings)
    assert list(sw.columns) == W.SWEEP_COLUMNS
    assert sw["is_current"].sum() == 1
    assert sw.loc[sw["is_current"], "value"].iloc[0] == c[feature]
    rows = range(len(sw)) if len(sw) <= 4 else [0, 7, int(np.flatnonzero(sw["is_current"])[0]),
                                                len(sw) - 1]
    for i in rows:
        r = sw.iloc[i]
        changed, view = _one_off(engine, c, feature, r["value"], settings)
        assert r["churn_prob"] == pytest.approx(view.prob, abs=1e-12)
        assert r["risk_tier"] == view.tier
        assert r["clv"] == pytest.approx(view.clv, abs=1e-9)
        best = view.offers.iloc[0]
        assert r["offer_id"] == best["offer_id"]
        assert r["offer_net_value"] == pytest.approx(best["expected_net_value"], abs=1e-9)
        assert r["offer_worth_making"] == (best["expected_net_value"] > 0)
        assert r["value_display"] == E.display_value(feature, changed[feature])


def test_sweep_is_monotone_where_the_model_is(engine, settings):
    # The linear model's log-odds are linear in tenure and in monthly charges (and total charges
    # = tenure × monthly charges is linear in each), so the churn probability is monotone.
    c = engine.customers.iloc[12]  # total charges = tenure × monthly: the current point too
    assert c["TotalCharges"] == round(c["tenure"] * c["MonthlyCharges"], 2)
    for feature in ("tenure", "MonthlyCharges"):
        p = W.sweep(engine, c, feature, settings)["churn_prob"].to_numpy()
        d = np.diff(p)
        assert (d <= 1e-12).all() or (d >= -1e-12).all(), feature
        assert abs(p[-1] - p[0]) > 0.01, feature  # and it does move
    # and in this model longer tenure lowers the risk (its coefficient is negative)
    p = W.sweep(engine, c, "tenure", settings)["churn_prob"].to_numpy()
    assert p[0] > p[-1]


def test_partial_dependence_is_the_average_of_the_changed_sample(engine):
    df = engine.customers
    sample = W.pd_sample(df)
    assert len(sample) == W.PD_SAMPLE
    pd.testing.assert_frame_equal(sample, W.pd_sample(df))  # seeded: the same customers
    curve = W.partial_dependence(engine.model, df, "Contract")
    assert list(curve["value"]) == ["Month-to-month", "One year", "Two year"]
    for _, r in curve.iterrows():
        changed = sample.copy()
        changed["Contract"] = r["value"]
        want = engine.model.predict_proba(changed).mean()
        assert r["churn_prob"] == pytest.approx(want, abs=1e-12)
        assert r["customers"] == W.PD_SAMPLE
    # tenure: total charges follow tenure × monthly charges for every customer
    curve = W.partial_dependence(engine.model, df, "tenure")
    assert len(curve) == 50
    changed = sample.copy()
    changed["tenure"] = 24
    changed["TotalCharges"] = schema.total_charges_estimate(24, changed["MonthlyCharges"])
    got = curve.set_index(curve["value"].astype(int)).loc[24, "churn_prob"]
    assert got == pytest.approx(engine.model.predict_proba(changed).mean(), abs=1e-12)
    # an add-on: "Yes"/"No" only over customers with internet, the forced level over the others
    curve = W.partial_dependence(engine.model, df, "OnlineSecurity").set_index("value")
    has = int((sample["InternetService"] != "No").sum())
    assert curve.loc["Yes", "customers"] == has
    assert curve.loc[schema.NO_INTERNET, "customers"] == W.PD_SAMPLE - has


def test_value_from_point():
    assert W.value_from_point("tenure", {"x": 24, "customdata": [24]}) == 24
    assert W.value_from_point("Contract", {"x": "Two year"}) == "Two year"
    assert W.value_from_point("SeniorCitizen", {"x": "Yes", "customdata": [1]}) == 1
    with pytest.raises(ValueError, match=r"^tenure: 500 is outside the valid range 0 to 120$"):
        W.value_from_point("tenure", {"x": 500})


# --- offers: worth making, and the reason for the order ------------------------------------------
def test_rank_reasons_explain_an_order_that_disagrees_with_the_net_value():
    from churn import campaign

    offers = pd.DataFrame({"offer_name": ["A", "B"], "from_rules": [True, False],
                           "expected_saved_value": [58.0, 79.0], "offer_cost": [10.0, 20.0],
                           "expected_net_value": [48.0, 59.0]})
    offers["ranking_score"] = np.where(offers["from_rules"], offers["expected_saved_value"],
                                       campaign.UNPROPOSED_WEIGHT
                                       * offers["expected_saved_value"]) - offers["offer_cost"]
    assert offers["ranking_score"].tolist() == pytest.approx([48.0, 43.2])  # $48 ranks first
    assert W.rank_reasons(offers).tolist() == ["Rule-backed: ranks on $48",
                                               "No rule: ranks on $43 (saving × 80%)"]
    losing = offers.assign(ranking_score=[-11.4, -2.0])
    assert W.rank_reasons(losing).tolist() == ["Rule-backed: ranks on -$11",
                                               "No rule: ranks on -$2 (saving × 80%)"]
    assert W.offer_worth_making(offers)
    assert not W.offer_worth_making(offers.assign(expected_net_value=[-1.0, 0.0]))
    assert not W.offer_worth_making(offers.iloc[:0]) and not W.offer_worth_making(None)


def test_rank_reasons_match_the_engine_ranking(engine, settings):
    view = engine.customer_view(W.customer_frame(engine.customers.iloc[5]), settings)
    o = view.offers
    assert (np.diff(o["ranking_score"].to_numpy()) <= 1e-9).all()  # the ranking's own order
    text = W.rank_reasons(o)
    for r, t in zip(o.itertuples(), text):
        assert t.startswith("Rule-backed: ranks on " if r.from_rules else "No rule: ranks on ")
        assert f"${abs(r.ranking_score):,.0f}" in t


# --- waterfall depth and order --------------------------------------------------------------
def test_waterfall_rows_depth_and_order(model):
    expl = E.explain(model, W.customer_frame(customer()))
    by_effect = W.waterfall_rows(expl, 0, k=5, order="effect")
    pd.testing.assert_frame_equal(by_effect, E.waterfall_data(expl, 0, k=5))
    by_feature = W.waterfall_rows(expl, 0, k=5, order="feature")
    feats = by_feature.loc[by_feature["feature"] != "", "feature"].tolist()
    assert sorted(feats, key=schema.FEATURES.index) == feats
    assert set(feats) == set(by_effect.loc[by_effect["feature"] != "", "feature"])
    assert by_feature["label"].tolist()[-2:] == [E.OTHER_LABEL, by_effect["label"].iloc[-1]]
    assert by_feature["pp"].iloc[1:-1].sum() == pytest.approx(by_effect["pp"].iloc[1:-1].sum())
    assert by_feature.iloc[0].equals(by_effect.iloc[0])
    every = W.waterfall_rows(expl, 0, k=len(schema.FEATURES), order="feature")
    assert E.OTHER_LABEL not in set(every["label"])
    with pytest.raises(ValueError, match=r"^waterfall_rows: order='size' must be one of "
                                         r"effect, feature$"):
        W.waterfall_rows(expl, 0, order="size")


# --- pinned customers -----------------------------------------------------------------------
def test_pinned_profiles_score_each_customer_as_alone(engine, settings):
    a = engine.customers.iloc[3]
    b = W.apply_changes(a, {"Contract": "Two year", "tenure": 60})  # the same ID, edited
    c = engine.customers.iloc[400]
    prof = W.pinned_profiles(engine, [a, b, c], ["real", "edited", "other"], settings)
    assert list(prof.columns) == W.PROFILE_COLUMNS + schema.FEATURES
    for i, cust in enumerate([a, b, c]):
        view = engine.customer_view(W.customer_frame(cust), settings)
        assert prof["churn_prob"].iloc[i] == pytest.approx(view.prob, abs=1e-12)
        assert prof["clv"].iloc[i] == pytest.approx(view.clv, abs=1e-9)
        assert prof["offer_name"].iloc[i] == view.offers["offer_name"].iloc[0]
        top = E.top_drivers(view.explanation, k=3, direction="up").iloc[0]
        f, pp = top["driver_1"], top["driver_1_pp"]
        assert prof["driver_1"].iloc[i] == (f"{E.short_label(f)}: "
                                            f"{E.display_value(f, cust[f])} ({pp:+.1f} pp)")
    diff = W.differing(prof)
    assert diff["Contract"] and diff["tenure"] and diff["churn_prob"]
    same = W.differing(W.pinned_profiles(engine, [a, a], ["x", "y"], settings))
    assert not any(same.values())
    with pytest.raises(ValueError, match=r"^pinned_profiles: at most 4 customers can be "
                                         r"compared, got 5$"):
        W.pinned_profiles(engine, [a] * 5, list("abcde"), settings)
    assert W.pinned_profiles(engine, [], [], settings).empty


@pytest.mark.parametrize("family", ["xgb", "cat"])
def test_sweep_with_real_tree_models_equals_one_off_rescores(engine, settings, family):
    import copy

    from _explain_fakes import real_models

    models, _ = real_models(("lr", "rf", "xgb", "cat"))  # shared with test_explain.py
    eng = copy.copy(engine)
    eng.model = models[family]
    c = eng.customers.iloc[7]
    for feature in ("tenure", "PaymentMethod"):
        sw = W.sweep(eng, c, feature, settings)
        for i in (0, len(sw) // 2, len(sw) - 1):
            _, view = _one_off(eng, c, feature, sw["value"].iloc[i], settings)
            assert sw["churn_prob"].iloc[i] == pytest.approx(view.prob, abs=1e-9)
            assert sw["clv"].iloc[i] == pytest.approx(view.clv, abs=1e-6)
            assert sw["offer_id"].iloc[i] == view.offers["offer_id"].iloc[0]


def test_sweep_highlights():
    sw = pd.DataFrame({
        "feature": "tenure", "value": [0, 12, 24, 36, 48],
        "value_display": ["0 months", "12 months", "24 months", "36 months", "48 months"],
        "is_current": [False, True, False, False, False],
        "risk_tier": ["High", "High", "Low", "Medium", "Low"],
        "offer_name": ["A", "B", "C", "D", "E"],
        "offer_net_value": [5.0, 40.0, 12.0, -3.0, -8.0]})
    assert W.sweep_highlights(sw) == [
        "At 48 months or more the risk tier is Low (now High).",
        "The best offer pays most at 12 months: B, expected net value $40."]
    none = sw.assign(offer_net_value=[-1.0, -2.0, np.nan, -4.0, 0.0],
                     risk_tier=["High"] * 5)
    assert W.sweep_highlights(none) == [
        "No value of tenure makes any offer worth making (every expected net value "
        "is $0 or less)."]
    cat = sw.assign(feature="Contract", value=["a", "b", "c", "d", "e"])
    assert W.sweep_highlights(cat) == [
        "The best offer pays most at 12 months: B, expected net value $40."]
