"""churn.drift: population stability index per feature, its status and the batch verdict."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churn import drift, schema, synth


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return synth.generate_customers(3000, 42)


def test_identical_data_has_zero_psi_everywhere(reference):
    table = drift.psi_table(reference, reference.copy())
    assert list(table.columns) == ["feature", "label", "psi", "status"]
    assert sorted(table["feature"]) == sorted(schema.FEATURES)
    assert (table["psi"] == 0.0).all()
    assert (table["status"] == "stable").all()
    assert table["feature"].tolist() == schema.FEATURES  # ties keep schema order
    level, message = drift.drift_verdict(table)
    assert level == "stable"
    assert message == ("These customers look like the training data: every feature's population "
                       "stability index is below 0.1.")


def test_categorical_psi_by_hand():
    ref = pd.DataFrame({"Contract": ["Month-to-month", "Month-to-month", "One year", "Two year"]})
    new = pd.DataFrame({"Contract": ["Month-to-month"] * 3 + ["One year"]})
    d = drift.distributions(ref, new, "Contract")
    assert d["bin"].tolist() == ["Month-to-month", "One year", "Two year"]
    assert d["reference"].tolist() == [0.5, 0.25, 0.25]
    assert d["batch"].tolist() == [0.75, 0.25, 0.0]
    # (0.75 - 0.5) ln(0.75 / 0.5) + 0 + (0.0001 - 0.25) ln(0.0001 / 0.25), the empty bin floored
    expected = 0.25 * math.log(1.5) + (1e-4 - 0.25) * math.log(1e-4 / 0.25)
    assert expected == pytest.approx(2.056595, abs=1e-6)
    table = drift.psi_table(ref, new, features=["Contract"])
    assert table.loc[0, "psi"] == pytest.approx(expected, rel=1e-12)
    assert table.loc[0, "status"] == "drifted"
    assert table.loc[0, "label"] == "Contract"


def test_numeric_psi_by_hand_uses_reference_deciles():
    ref = pd.DataFrame({"tenure": np.arange(10)})      # deciles 0.9, 1.8, ..., 8.1: one value a bin
    new = pd.DataFrame({"tenure": [0] * 5 + [9] * 5})  # half in the first bin, half in the last
    assert drift.quantile_edges(ref["tenure"]) == pytest.approx([0.9, 1.8, 2.7, 3.6, 4.5, 5.4,
                                                                 6.3, 7.2, 8.1])
    d = drift.distributions(ref, new, "tenure")
    assert d["bin"].tolist()[:2] == ["up to 0.9", "over 0.9 to 1.8"]
    assert d["bin"].tolist()[-1] == "over 8.1"          # no blank bin: nobody is blank
    assert d["reference"].tolist() == pytest.approx([0.1] * 10)
    assert d["batch"].tolist() == pytest.approx([0.5] + [0.0] * 8 + [0.5])
    expected = 2 * 0.4 * math.log(5) + 8 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert expected == pytest.approx(6.808228, abs=1e-6)
    assert drift.psi_table(ref, new, features=["tenure"]).loc[0, "psi"] == pytest.approx(expected)


def test_values_outside_the_reference_range_land_in_the_end_bins():
    ref = pd.DataFrame({"MonthlyCharges": np.linspace(20, 100, 50)})
    new = pd.DataFrame({"MonthlyCharges": [1.0, 500.0]})
    d = drift.distributions(ref, new, "MonthlyCharges")
    assert d["batch"].iloc[0] == 0.5 and d["batch"].iloc[-1] == 0.5


def test_blank_total_charges_is_its_own_bin():
    ref = pd.DataFrame({"TotalCharges": [np.nan] + list(np.arange(1.0, 20.0))})  # 1 in 20 blank
    new = pd.DataFrame({"TotalCharges": [np.nan] * 10 + list(np.arange(1.0, 11.0))})
    d = drift.distributions(ref, new, "TotalCharges")
    assert d["bin"].iloc[-1] == "blank"
    assert d["reference"].iloc[-1] == pytest.approx(0.05)
    assert d["batch"].iloc[-1] == pytest.approx(0.5)
    assert d["reference"].sum() == pytest.approx(1.0) and d["batch"].sum() == pytest.approx(1.0)


def test_unknown_category_is_a_bin_of_its_own():
    ref = pd.DataFrame({"gender": ["Female", "Male"] * 5})
    new = pd.DataFrame({"gender": ["Female", "Male", "Other", "Other"]})
    d = drift.distributions(ref, new, "gender")
    assert d["bin"].tolist() == ["Female", "Male", "Other"]
    assert d["reference"].tolist() == [0.5, 0.5, 0.0]
    assert drift.psi_table(ref, new, features=["gender"]).loc[0, "status"] == "drifted"


def test_senior_citizen_counts_by_value_not_quantiles(reference):
    d = drift.distributions(reference, reference, "SeniorCitizen")
    assert d["bin"].tolist() == ["0", "1"]
    assert d["reference"].iloc[1] == pytest.approx(reference["SeniorCitizen"].mean())


def test_shifted_batch_is_flagged_and_named(reference):
    batch = synth.generate_customers(2000, 7)
    batch["Contract"] = "Month-to-month"
    batch["tenure"] = batch["tenure"] // 2
    table = drift.psi_table(reference, batch)
    assert table["feature"].tolist()[:2] == ["Contract", "tenure"]
    assert table["status"].tolist()[:2] == ["drifted", "drifted"]
    assert (table["psi"].iloc[2:] < 0.25).all()
    assert table["psi"].is_monotonic_decreasing
    level, message = drift.drift_verdict(table)
    assert level == "drifted"
    assert message.startswith("The model may not apply: Contract and Tenure differ strongly from "
                              "the training data (population stability index 0.25 or more). "
                              "Treat these scores with caution, or retrain the model on customers "
                              "like these.")


def test_fresh_sample_of_the_same_population_is_stable(reference):
    table = drift.psi_table(reference, synth.generate_customers(3000, 8))
    assert (table["status"] == "stable").all(), table.head()


@pytest.mark.parametrize("values, status", [
    (0.0, "stable"), (0.0999, "stable"), (0.1, "moderate shift"), (0.2499, "moderate shift"),
    (0.25, "drifted"), (3.0, "drifted"),
])
def test_status_thresholds(values, status):
    assert drift.status(values) == status


def test_verdict_wording_for_moderate_and_mixed_shifts():
    table = pd.DataFrame({"feature": ["MonthlyCharges", "PaymentMethod", "gender"],
                          "label": ["", "", ""], "psi": [0.2, 0.12, 0.01],
                          "status": ["moderate shift", "moderate shift", "stable"]})
    assert drift.drift_verdict(table) == (
        "moderate shift",
        "Monthly charges and Payment method have shifted moderately from the training data "
        "(population stability index 0.1 to 0.25). The scores are usable; keep an eye on these "
        "features.")
    one = table.assign(psi=[0.3, 0.12, 0.01])
    level, message = drift.drift_verdict(one)
    assert level == "drifted"
    assert message == ("The model may not apply: Monthly charges differs strongly from the "
                       "training data (population stability index 0.25 or more). Treat these "
                       "scores with caution, or retrain the model on customers like these. "
                       "Payment method also shifted moderately.")


def test_psi_is_symmetric_and_floors_empty_bins():
    assert drift.psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(drift.psi([0.9, 0.1], [0.5, 0.5]))
    assert drift.psi([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert math.isfinite(drift.psi([1.0, 0.0], [0.0, 1.0]))


def test_caller_errors_name_the_problem(reference):
    with pytest.raises(ValueError, match=r"^batch has no rows; the population stability index "
                                         r"needs customers on both sides$"):
        drift.psi_table(reference, reference.head(0))
    with pytest.raises(ValueError, match=r"^batch is missing column\(s\) tenure; expected a "
                                         r"canonical customer frame"):
        drift.psi_table(reference, reference.drop(columns="tenure"))
    with pytest.raises(ValueError, match=r"^reference must be a canonical customer DataFrame, "
                                         r"got list$"):
        drift.psi_table([], reference)
    with pytest.raises(ValueError, match="^reference_share has 2 bins but batch_share has 3"):
        drift.psi([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError,
                       match="^drift_verdict takes the DataFrame returned by psi_table"):
        drift.drift_verdict(pd.DataFrame({"x": [1]}))


def test_a_small_batch_is_too_small_to_judge_whatever_its_psi():
    table = pd.DataFrame({"feature": ["Contract"], "label": ["Contract"], "psi": [0.9],
                          "status": ["drifted"]})
    assert drift.drift_verdict(table, rows=38) == (
        "too small to judge",
        "Only 38 customers: too few to judge drift reliably (a stable comparison needs about "
        "500). The stability index per feature is shown for information.")
    assert drift.drift_verdict(table, rows=500)[0] == "drifted"
