"""Test doubles and random customers shared by the tests (not collected: no test_ prefix).

- `make_customers` draws a small canonical frame that obeys the schema's dependency rules, with a
  churn outcome from a known logistic function (realistic mixes: few forced values).
- `random_customers` draws every column uniformly over its schema values (forced values such as
  "No internet service" included, dependencies then enforced): the widest coverage of value
  combinations, for checks against an independent computation.
- `LinearChurnModel` implements the `ChurnModel` interface (predict_proba, contributions,
  version) with a logistic regression whose log-odds contributions are exact: coefficient ×
  (value − training mean), summed back to schema columns.
- `fake_engine` is a real `scoring.Engine` from small, quickly fitted parts around it.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from churn import schema


def make_customers(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({schema.ID: [f"{i:04d}-{''.join(rng.choice(list('ABCDEFGHIJ'), 5))}"
                                   for i in range(n)]})
    for c in schema.COLUMNS:
        if c.kind == "category":
            vals = [v for v in c.values if v != c.forced]
            df[c.name] = rng.choice(vals, size=n)
    df["SeniorCitizen"] = (rng.random(n) < 0.16).astype(int)
    df["tenure"] = rng.integers(0, 73, size=n)
    df["MonthlyCharges"] = np.round(rng.uniform(18.25, 118.75, size=n) * 20) / 20
    df["InternetService"] = rng.choice(["DSL", "Fiber optic", "No"], size=n, p=[0.35, 0.44, 0.21])
    df["PhoneService"] = rng.choice(["Yes", "No"], size=n, p=[0.9, 0.1])
    df = schema.enforce_dependencies(df)
    df["TotalCharges"] = schema.total_charges_estimate(df["tenure"], df["MonthlyCharges"])
    logit = (-1.0 + 1.5 * (df["Contract"] == "Month-to-month") - 0.04 * df["tenure"]
             + 0.8 * (df["InternetService"] == "Fiber optic") + 0.5 * df["SeniorCitizen"]
             + 0.6 * (df["PaymentMethod"] == "Electronic check"))
    df[schema.TARGET] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df[[c.name for c in schema.COLUMNS]]


def _design(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Numeric design matrix and, per column, the schema feature it came from."""
    X = schema.feature_frame(df)
    cols, owner = [], []
    for f in schema.FEATURES:
        c = schema.BY_NAME[f]
        if c.kind == "category":
            for v in c.values:
                cols.append((X[f] == v).to_numpy(dtype=float))
                owner.append(f)
        else:
            scale = {"tenure": 24.0, "MonthlyCharges": 30.0, "TotalCharges": 2000.0}.get(f, 1.0)
            cols.append(X[f].to_numpy(dtype=float) / scale)
            owner.append(f)
    return np.column_stack(cols), owner


class LinearChurnModel:
    """A logistic regression with exact additive log-odds contributions per schema column."""

    family = "fake_lr"

    def __init__(self, version: str = "fake-1"):
        self.version = version

    def fit(self, df: pd.DataFrame) -> "LinearChurnModel":
        Z, self.owner_ = _design(df)
        self.lr_ = LogisticRegression(C=1.0, max_iter=2000).fit(Z, df[schema.TARGET])
        self.mean_ = Z.mean(axis=0)
        self.coef_ = self.lr_.coef_[0]
        self.base_logit_ = float(self.lr_.intercept_[0] + self.coef_ @ self.mean_)
        owner = np.array(self.owner_)
        self.groups_ = [np.flatnonzero(owner == f) for f in schema.FEATURES]
        return self

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        Z, _ = _design(df)
        return 1 / (1 + np.exp(-(self.lr_.intercept_[0] + Z @ self.coef_)))

    def contributions(self, df: pd.DataFrame):
        Z, _ = _design(df)
        terms = (Z - self.mean_) * self.coef_
        phi = np.column_stack([terms[:, g].sum(axis=1) for g in self.groups_])
        return self.base_logit_, pd.DataFrame(phi, columns=schema.FEATURES, index=df.index)


_TRAINED: dict = {}


def real_models(families=("lr", "rf", "xgb", "cat"), rows: int = 1000, seed: int = 3):
    """Real `churn.models` models, one per family, trained once per test session (small grid,
    2 folds) on a generated sample, in the session's data folder. Returns (models, data)."""
    import os
    from pathlib import Path

    from churn import models, synth

    key = (tuple(families), rows, seed)
    if key not in _TRAINED:
        data = synth.generate_customers(rows, seed)
        base = Path(os.environ.get("CHURN_DATA_DIR", ".")) / "explain-models"
        out = {}
        for fam in families:
            cfg = models.TrainConfig(families=(fam,), grid="small", folds=2)
            out[fam] = models.train(data, cfg, base / fam).model
        _TRAINED[key] = (out, data)
    return _TRAINED[key]


_APP_DIR: dict = {}


def trained_data_dir():
    """A data folder of its own (not the session's shared one, whose tests expect no model)
    with the default sample and a quickly trained logistic-regression model, made once per
    test session. The app pages read it when CHURN_DATA_DIR points at it."""
    import os
    from pathlib import Path

    from churn import config, models, synth
    from churn.validate import load_customers

    if "dir" not in _APP_DIR:
        folder = Path(os.environ.get("CHURN_DATA_DIR", ".")) / "explain-app"
        p = synth.ensure_sample(config.paths(folder))
        df = load_customers(p.customers_csv)
        models.train(df, models.TrainConfig(families=("lr",), grid="small", folds=2),
                     p.models_dir)
        _APP_DIR["dir"] = folder
    return _APP_DIR["dir"]


def random_customers(n: int, seed: int, *, target: bool = False) -> pd.DataFrame:
    """A random canonical frame in the file's column order: each category uniform over its
    schema values, dependencies enforced, tenure 0..72 (TotalCharges NaN at 0), monthly charges
    $18.25..$118.75; with a random 0/1 Churn when ``target``. IDs are unique."""
    rng = np.random.default_rng(seed)
    data = {schema.ID: [f"{seed % 10000:04d}-{i:05d}" for i in range(n)]}
    for col in schema.COLUMNS:
        if col.kind == "category":
            data[col.name] = rng.choice(np.array(col.values, dtype=object), n)
    data["SeniorCitizen"] = rng.integers(0, 2, n)
    data["tenure"] = rng.integers(0, 73, n)
    data["MonthlyCharges"] = np.round(rng.uniform(18.25, 118.75, n), 2)
    data["TotalCharges"] = schema.total_charges_estimate(data["tenure"], data["MonthlyCharges"])
    data[schema.TARGET] = rng.integers(0, 2, n)
    df = schema.enforce_dependencies(pd.DataFrame(data))[schema.FILE_COLUMNS]
    return df if target else df.drop(columns=schema.TARGET)


def fake_engine(n: int = 600, with_history: int = 300, seed: int = 5, model=None):
    """A real `scoring.Engine` from small, quickly fitted parts: `LinearChurnModel` (exact,
    monotone in tenure and monthly charges) on ``make_customers(n, seed)`` unless ``model``
    (e.g. a trained XGBoost `ChurnModel`) is given, a survival model, an offer recommender with
    three rated offers for each of the first ``with_history`` customers (the rest are
    cold-start), and the shipped catalogue."""
    from churn.ltv import SurvivalModel
    from churn.offers import load_catalogue
    from churn.recommend import OfferRecommender
    from churn.scoring import Engine

    customers = make_customers(n, seed=seed)
    catalogue = load_catalogue()
    rng = np.random.default_rng(11)
    rows = []
    for cid in customers[schema.ID].iloc[:with_history]:
        for o in rng.choice(catalogue.ids, size=3, replace=False):
            rating = int(rng.integers(1, 6))
            rows.append({schema.ID: cid, "offer_id": o, "date": "2024-01-01",
                         "accepted": int(rating >= 4), "rating": rating})
    model = model if model is not None else LinearChurnModel().fit(customers)
    survival = SurvivalModel().fit(customers)
    recommender = OfferRecommender(n_folds=2).fit(pd.DataFrame(rows), customers,
                                                  offer_ids=catalogue.ids)
    return Engine(model, survival, recommender, catalogue, customers)


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Canonical rows as JSON sends them (numbers as numbers, a blank total as null), for the
    predict and API tests."""
    out = []
    for row in frame.drop(columns=[schema.TARGET], errors="ignore").to_dict("records"):
        r = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        if isinstance(r["TotalCharges"], float) and math.isnan(r["TotalCharges"]):
            r["TotalCharges"] = None
        out.append(r)
    return out
