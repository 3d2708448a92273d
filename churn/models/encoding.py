"""The shared preprocessing of lr, rf and xgb: schema-driven one-hot encoding of the categories.

Categories come from ``churn.schema`` (never from the data), so one row encodes the same way
alone or in a million-row batch. `onehot_feature_map` maps encoded columns back to the schema
FEATURES, which is how one-hot contributions are summed per customer column.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn import schema
from churn.schema import BY_NAME, CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES


class SchemaEncoder:
    """The shared preprocessing of lr, rf and xgb: one-hot categories, then numeric features.

    Categories come from the schema (``schema.one_hot``), so a row's encoding never depends on
    the other rows and one row encodes in microseconds (a scikit-learn ColumnTransformer costs
    tens of milliseconds a call, which the what-if page would feel). Numeric features are
    standardised with the fit frame's mean and sd when ``scale`` (logistic regression), else
    passed through. An unknown category is a caller error (validation keeps them out).
    Output: a dense float64 array with ``onehot_feature_map().shape[0]`` columns.
    """

    def __init__(self, scale: bool = False):
        self.scale = scale

    def fit(self, X: pd.DataFrame, y=None) -> "SchemaEncoder":
        num = X[NUMERIC_FEATURES].to_numpy(dtype=np.float64)
        self.mean_ = num.mean(axis=0) if self.scale else np.zeros(num.shape[1])
        sd = num.std(axis=0) if self.scale else np.ones(num.shape[1])
        self.scale_ = np.where(sd > 0, sd, 1.0)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        cats = schema.one_hot(X)
        seen = np.add.reduceat(cats, _GROUP_STARTS, axis=1) if len(X) else np.ones((0, 1))
        if (seen == 0).any():
            r, c = np.argwhere(seen == 0)[0]
            col = CATEGORICAL_FEATURES[c]
            raise ValueError(f"{col}={X[col].iloc[r]!r} is not one of {list(BY_NAME[col].values)}"
                             "; validate the data first (churn.validate)")
        num = (schema.numeric_matrix(X) - self.mean_) / self.scale_
        return np.hstack([cats, num])

    def fit_transform(self, X: pd.DataFrame, y=None) -> np.ndarray:
        return self.fit(X).transform(X)

    def get_feature_names_out(self) -> np.ndarray:
        """Output column names, scikit-learn style: ``Contract_Month-to-month``, ..., ``tenure``."""
        return np.array([f"{c}_{v}" for c in CATEGORICAL_FEATURES for v in BY_NAME[c].values]
                        + list(NUMERIC_FEATURES), dtype=object)


_GROUP_STARTS = np.cumsum([0] + [len(BY_NAME[c].values) for c in CATEGORICAL_FEATURES])[:-1]


def make_preprocessor(scale: bool) -> SchemaEncoder:
    """The shared preprocessing for lr, rf and xgb (unfitted); see `SchemaEncoder`."""
    return SchemaEncoder(scale)


def onehot_feature_map() -> np.ndarray:
    """0/1 matrix (preprocessed columns × schema FEATURES): which schema column each came from.

    ``contrib_onehot @ onehot_feature_map()`` sums one-hot contributions back to schema columns.
    """
    owners = [c for c in CATEGORICAL_FEATURES for _ in BY_NAME[c].values] + list(NUMERIC_FEATURES)
    out = np.zeros((len(owners), len(FEATURES)))
    for i, name in enumerate(owners):
        out[i, FEATURES.index(name)] = 1.0
    return out


def _template_features() -> pd.DataFrame:
    """One valid feature row (any row gives the same base value of an additive explanation)."""
    row = {}
    for c in FEATURES:
        col = BY_NAME[c]
        row[c] = col.values[0] if col.kind == "category" else 0
    row.update({schema.TENURE: 1, schema.MONTHLY: 50.0, schema.TOTAL: 50.0})
    return schema.feature_frame(pd.DataFrame([row]))

