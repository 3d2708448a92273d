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
