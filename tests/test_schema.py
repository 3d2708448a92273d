"""The schema's derived helpers, each checked against an independent computation."""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn import schema


def test_format_dollars_matches_python_formatting_of_the_ibm_file():
    rng = np.random.default_rng(0)
    values = np.round(rng.uniform(0, 9000, 20_000), 2)
    expected = [f"{v:.2f}".rstrip("0").rstrip(".") for v in values]
    assert list(schema.format_dollars(values)) == expected
    assert list(schema.format_dollars(np.array([np.nan, 20.0, 0.05]), blank=" ")) == \
        [" ", "20", "0.05"]


def test_one_hot_marks_exactly_the_value_of_each_categorical_feature():
    df = pd.DataFrame({c: [schema.BY_NAME[c].values[-1], schema.BY_NAME[c].values[0]]
                       for c in schema.CATEGORICAL_FEATURES})
    df.loc[1, "Contract"] = "Monthly"  # unknown: no indicator set for Contract in that row
    m = schema.one_hot(df)
    assert m.shape == (2, len(schema.ONE_HOT_COLUMNS))
    names = np.array(schema.ONE_HOT_COLUMNS)
    row0 = {f"{c}={schema.BY_NAME[c].values[-1]}" for c in schema.CATEGORICAL_FEATURES}
    assert set(names[m[0] == 1]) == row0
    row1 = {f"{c}={schema.BY_NAME[c].values[0]}" for c in schema.CATEGORICAL_FEATURES
            if c != "Contract"}
    assert set(names[m[1] == 1]) == row1


def test_enforce_dependencies_follows_the_parent_both_ways():
    df = pd.DataFrame({"InternetService": ["No", "DSL"], "OnlineSecurity": ["Yes", NO := "No internet service"],
                       "PhoneService": ["No", "Yes"], "MultipleLines": ["Yes", "No phone service"]})
    out = schema.enforce_dependencies(df)
    assert list(out["OnlineSecurity"]) == [NO, "No"]
    assert list(out["MultipleLines"]) == ["No phone service", "No"]
    assert list(df["OnlineSecurity"]) == ["Yes", NO]  # the input is not changed


def test_features_never_include_the_id_or_the_target():
    assert schema.ID not in schema.FEATURES and schema.TARGET not in schema.FEATURES
    assert len(schema.FEATURES) == 19
    assert set(schema.FEATURES) == set(schema.CATEGORICAL_FEATURES) | set(schema.NUMERIC_FEATURES)


def test_feature_frame_is_the_same_for_a_few_rows_and_for_many():
    """`feature_frame` builds small frames from numpy arrays and large ones through pandas; the
    two must agree value for value and dtype for dtype (a blank TotalCharges included)."""
    from churn.synth import generate_customers as generate

    df = generate(schema._SMALL_FRAME + 50, seed=3)
    df.loc[df.index[:3], "TotalCharges"] = np.nan
    big = schema.feature_frame(df)
    assert len(df) >= schema._SMALL_FRAME  # the pandas path
    for rows in (df.iloc[:1], df.iloc[:7], df.iloc[100:140]):
        small = schema.feature_frame(rows)
        pd.testing.assert_frame_equal(small, big.loc[rows.index])
    assert big["TotalCharges"].iloc[:3].tolist() == [0.0, 0.0, 0.0]
    assert list(big.columns) == schema.FEATURES


def test_the_upload_template_is_a_valid_file_in_the_ibm_layout():
    import io

    from churn.validate import validate

    data = schema.template_csv_bytes()
    lines = data.decode().splitlines()
    assert lines[0].split(",") == [c for c in schema.FILE_COLUMNS if c != schema.TARGET]
    report = validate(io.BytesIO(data))
    assert (report.rows, report.valid_rows, report.errors, report.warnings) == (3, 3, [], [])
    df = report.frame
    assert df["TotalCharges"].isna().tolist() == [True, False, False]  # tenure 0: not billed
    assert df.loc[df["InternetService"] == "No", "OnlineSecurity"].tolist() == \
        ["No internet service"]
    assert df.loc[df["PhoneService"] == "No", "MultipleLines"].tolist() == ["No phone service"]
    assert df["TotalCharges"].iloc[1:].tolist() == \
        [round(t * m, 2) for t, m in zip(df["tenure"].iloc[1:], df["MonthlyCharges"].iloc[1:])]


def test_category_codes_are_the_same_for_a_few_values_and_for_many():
    values = np.array(list(schema.BY_NAME["Contract"].values) + ["Weekly", "", None, np.nan, 1,
                                                                  "month-to-month"], dtype=object)
    many = np.tile(values, 10)                            # the pandas-index path (≥ 64 values)
    expected = [0, 1, 2, -1, -1, -1, -1, -1, -1]
    assert schema.category_codes(many, "Contract").tolist() == expected * 10
    assert schema.category_codes(values, "Contract").tolist() == expected   # the dict path
    assert schema.category_codes(values[:1], "Contract").dtype == np.int16
