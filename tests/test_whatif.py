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
