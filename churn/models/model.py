"""`ChurnModel`: a trained family plus its Platt map, as loaded from a saved version.

It checks every frame at the boundary (`_check_frame`) and gives calibrated probabilities and
exact additive contributions in calibrated log-odds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn import schema
from churn.models.calibration import _sigmoid
from churn.models.family import Family
from churn.schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES


def _check_frame(df: pd.DataFrame, what: str) -> pd.DataFrame:
    """schema.feature_frame(df) after checking columns and category values (caller errors)."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} takes a canonical DataFrame, got {type(df).__name__}.")
    missing = [c for c in FEATURES if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs the schema feature columns; missing: {', '.join(missing)}. "
                         "Validate the file with churn.validate first.")
    column = schema.column_getter(df)   # one customer: every column read in one pass
    for c in CATEGORICAL_FEATURES:
        values = column(c)
        bad = schema.category_codes(values, c) < 0
        if bad.any():
            vals = ", ".join(repr(v) for v in pd.unique(values[bad])[:3])
            raise ValueError(f"{what}: column {c} has values the model does not know: {vals}. "
                             "Validate the file with churn.validate first.")
    bad = [c for c in NUMERIC_FEATURES
           if c != schema.TOTAL and pd.isna(column(c)).any()]
    if bad:
        raise ValueError(f"{what}: column(s) {', '.join(bad)} have blank values. "
                         "Validate the file with churn.validate first.")
    return schema.feature_frame(df)


class ChurnModel:
    """A trained, calibrated churn model of one family, as loaded from a cache version.

    ``predict_proba(df)`` and ``contributions(df)`` take a canonical frame (extra columns such as
    customerID, Churn or row are ignored).
    """

    def __init__(self, version: str, family: str, estimator: Family,
                 calibration: tuple[float, float], metadata: dict):
        self.version = version
        self.family = family
        self.estimator = estimator
        self.calibration = calibration
        self.metadata = metadata
        self.features = list(FEATURES)

    def __repr__(self) -> str:
        return f"ChurnModel(version={self.version!r}, family={self.family!r})"

    def logit(self, df: pd.DataFrame) -> np.ndarray:
        """Calibrated log-odds of churn, a × margin + b (float64, one per row)."""
        X = _check_frame(df, "predict_proba")
        a, b = self.calibration
        return a * self.estimator.margin(X) + b

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Calibrated P(churn) (0..1) for each row of a canonical frame, as a numpy array."""
        return _sigmoid(self.logit(df))

    def contributions(self, df: pd.DataFrame) -> tuple[float, pd.DataFrame]:
        """(base_logit, contributions): per-feature contributions in calibrated log-odds.

        contributions has the schema FEATURES as columns and df's index; for each row
        ``base_logit + row sum == logit(predict_proba(df))`` (to float64 rounding).
        """
        X = _check_frame(df, "contributions")
        a, b = self.calibration
        base, contrib = self.estimator.contributions(X)
        return float(a * base + b), pd.DataFrame(a * contrib, columns=self.features, index=df.index)
