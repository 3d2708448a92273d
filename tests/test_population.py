"""Tests for churn.population: history vs active base, and out-of-fold scores for customers the
model was trained on (through the real scoring engine)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn import population as P
from churn.schema import ID, TARGET


def _frame(churn):
    df = pd.DataFrame({ID: [f"{i:04d}-A" for i in range(len(churn))], "tenure": range(len(churn))})
    if churn is not None:
        df[TARGET] = churn
    return df


def test_kind_active_and_describe():
    hist = _frame([0, 1, 0, 1, 1])
    assert P.kind(hist) == "history"
    assert P.active(hist)[ID].tolist() == ["0000-A", "0002-A"]
    d = P.describe(hist)
    assert (d.kind, d.rows, d.active, d.left) == ("history", 5, 2, 3)
    assert d.line == ("History (labelled): 5 customers, of whom 3 have left; risk figures and "
                      "campaigns use the 2 still active.")
    # shown in place of a chosen active base of 7 customers (the Why page)
    assert d.stand_in_line(7) == ("Explained on the labelled history the model learned from: 5 "
                                  "customers, of whom 3 have left. Risk figures and campaigns "
                                  "use the chosen active base (7 current customers).")
    base = _frame([0, 0, 0]).drop(columns=TARGET)
    assert P.kind(base) == "active" and P.active(base) is base
    assert P.describe(base).line == ("Active base: 3 current customers (no churn outcome yet); "
                                     "every figure is about them.")
    # a labelled file where nobody left is returned as is (cached fingerprints hold)
    stay = _frame([0, 0])
    assert P.active(stay) is stay
    # Yes/No text is understood too
    assert P.active(_frame(["No", "Yes", " yes "]))[ID].tolist() == ["0000-A"]


def test_out_of_fold_matches_only_unchanged_training_rows():
    train = pd.DataFrame({ID: ["a", "b", "c"], "tenure": [1, 2, 3],
                          "Contract": ["One year", "Two year", "Month-to-month"]})
    oof = pd.Series([0.1, 0.2, 0.3], index=["a", "b", "c"])
    frame = pd.DataFrame({ID: ["c", "b", "z", "a"], "tenure": [3, 5, 1, 1],
                          "Contract": ["Month-to-month", "Two year", "One year", "One year"]})
    got = P.out_of_fold(frame, train, oof)
    # c unchanged → its OOF; b aged (tenure 5) → new data; z unknown → NaN; a unchanged
    assert got[0] == 0.3 and np.isnan(got[1]) and np.isnan(got[2]) and got[3] == 0.1
