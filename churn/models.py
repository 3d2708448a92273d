"""Churn models: four families behind one interface, honest cross-validation, calibration, a cache.

What and why
------------
``train(df, config, models_dir)`` takes a canonical frame with ``Churn`` (0/1) and returns a
``TrainResult`` whose ``model`` is a ``ChurnModel``: calibrated P(churn) for any canonical frame,
plus exact per-feature contributions in log-odds. Trained versions are cached on disk, keyed by a
fingerprint of the data, the configuration and the library versions, so the app and the command
line reuse a model instead of retraining it.

Families (``FAMILIES``; adding one means writing one ``Family`` subclass and registering it)
- ``lr``  logistic regression (scikit-learn), ``rf`` random forest (scikit-learn),
  ``xgb`` XGBoost, ``cat`` CatBoost.
- lr, rf and xgb read the shared preprocessing pipeline (``make_preprocessor``): one-hot for
  ``schema.CATEGORICAL_FEATURES`` with the schema's own category lists (so the encoding does not
  depend on the data), standard scaling of ``schema.NUMERIC_FEATURES`` for lr only (trees do not
  need it). CatBoost reads the raw categories through ``cat_features``. Input is always
  ``schema.feature_frame(df)``: customerID and Churn never enter a model.
- Class imbalance is handled by each model's own weighting (``class_weight="balanced"`` /
  ``"balanced_subsample"``, ``scale_pos_weight`` = stayers/churners, ``auto_class_weights=
  "Balanced"``), never by resampling. The weighting shifts probabilities upwards; Platt scaling
  (below) puts them back on the observed churn rate.

Evaluation (``TrainConfig``)
- Stratified k-fold cross-validation (default 5 folds, fixed seed). Each fold fits the whole
  family (preprocessing included) on the training part only.
- Hyperparameters: every point of the family's small grid is cross-validated; the point with the
  best mean fold value of the selection metric is kept (its values are reported).
- Calibration: Platt scaling, P = sigmoid(a × margin + b), fitted by maximum likelihood (plain
  0/1 targets) on the family's raw margin (log-odds). The cross-validated figures are for
  *cross-fitted* calibrated out-of-fold (OOF) probabilities: the Platt map applied to fold k's
  OOF margins is fitted on the OOF margins of the other folds only, so no row's own label is used
  to calibrate its own prediction. (The other folds' margins come from models that did see fold
  k's rows in training; the influence of that on a two-parameter map is negligible, and full
  nesting would cost k times more.)
- Metrics per family: mean over folds of ``churn.metrics.summary`` (ROC-AUC, PR-AUC, Brier, log
  loss, lift and precision in the top 10%/20%, recall/precision at the decision threshold, ECE
  with 10 equal-width bins) plus their standard deviation, pooled OOF curve data, and per-segment
  figures (gender, SeniorCitizen, Contract) from the pooled OOF predictions. Choosing the best grid
  point on the same folds makes the chosen figures very slightly optimistic (grids are tiny).
- Selection: the family with the best mean value of ``selection_metric`` (default PR-AUC; Brier,
  log loss and ECE count lower as better). It is refitted with its chosen parameters on every
  row, and its Platt map is refitted on all of its OOF margins.

Contributions (``ChurnModel.contributions``) are exact and additive in the calibrated log-odds:
``base_logit + row sum == logit(predict_proba)``. Each family gives (base margin, per-feature
margin contributions): lr coef × (x - training mean of x); xgb ``pred_contribs``; cat
``ShapValues``; rf TreeSHAP (``shap.TreeExplainer``) on the forest's probability, moved to the
log-odds margin by proportional allocation (each feature keeps its share of the probability change,
scaled by (logit(p) - logit(p_base)) / (p - p_base)). One-hot columns are summed back to their
schema column. Because Platt is linear in log-odds, calibrated contributions are a × the margin
contributions and the base is a × base + b. XGBoost computes in float32; the rounding gap
(about 1e-6) between its margin and its contribution sum is spread over the row's contributions
in proportion to their size, so the identity holds to float64 precision for every family.

Cache layout (``models_dir``, by default ``config.paths().models_dir``)::

    <version>/metadata.json   everything about the version, incl. sha256 of every other file
    <version>/model.(joblib|ubj|cbm), preprocess.joblib (lr/rf/xgb), oof.parquet
    <version>/mlflow.json     its MLflow run and registered model version (``churn.tracking``)
    ACTIVE                    the active version id (written atomically): the one source of
                              truth for the active model; MLflow's ``champion`` alias follows it

``version`` is the first 16 hex digits of the fingerprint. A version is written into a
``.tmp-<version>-<pid>-<random>`` folder and renamed into place only when complete. A folder that
cannot be used (unreadable or bad JSON, missing file, checksum mismatch, another format or other
library versions, a half-written temp folder of a dead process) is reported in
``TrainResult.warnings`` and replaced by a fresh training; it is never loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from churn import metrics as M
from churn import schema
from churn.schema import BY_NAME, CATEGORICAL_FEATURES, FEATURES, ID, NUMERIC_FEATURES, TARGET

#: Bump when the training procedure or the artifact layout changes (part of the fingerprint).
MODEL_FORMAT = 1
METADATA = "metadata.json"
OOF_FILE = "oof.parquet"
PREPROCESS_FILE = "preprocess.joblib"
ACTIVE_FILE = "ACTIVE"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
#: Columns the per-segment metrics are broken down by.
SEGMENTS = schema.METRIC_SEGMENTS
#: Metrics the CLI and the comparison table show, in order.
REPORT_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "lift_at_20", "ece")
#: Temp folders older than this (seconds) are stale even if their process id is in use again.
STALE_TMP_SECONDS = 6 * 3600


class ModelCacheError(RuntimeError):
    """A model version folder cannot be used (the message says why)."""


class NoModelError(LookupError):
    """There is no active model yet."""


# --- small numeric helpers ----------------------------------------------------------------------
def _sigmoid(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(z)


def _logit(p: np.ndarray) -> np.ndarray:
    from scipy.special import logit

    return logit(p)


def fit_platt(margin, y, max_iter: int = 100) -> tuple[float, float]:
    """Platt scaling: (a, b) maximising the likelihood of y under sigmoid(a × margin + b).

    margin: raw log-odds scores; y: 0/1. Newton's method with step halving, plain 0/1 targets
    and a 1e-9 ridge that only matters when the classes are perfectly separated.
    """
    m = np.asarray(margin, dtype=float)
    y = np.asarray(y, dtype=float)
    X = np.column_stack([m, np.ones_like(m)])
    w = np.array([1.0, 0.0])

    def nll(w):
        z = X @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    cur = nll(w)
    for _ in range(max_iter):
        p = _sigmoid(X @ w)
        g = X.T @ (p - y) + 1e-9 * w
        H = (X * (p * (1 - p))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.linalg.solve(H, g)
        t = 1.0
        while t > 1e-8:
            new = w - t * step
            val = nll(new)
            if val <= cur + 1e-12:
                break
            t /= 2
        else:
            break
        w, cur = new, val
        if np.max(np.abs(t * step)) < 1e-10:
            break
    return float(w[0]), float(w[1])


def _close_gap(base: float, contrib: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Spread margin - (base + row sum) over each row's contributions in proportion to |c|.

    The gap is floating-point rounding (float32 in XGBoost, about 1e-6) or, for the forest, the
    limit of the proportional allocation; spreading it keeps the additive identity exact.
    """
    gap = margin - base - contrib.sum(axis=1)
    w = np.abs(contrib)
    s = w.sum(axis=1, keepdims=True)
    w = np.where(s > 0, w / np.where(s > 0, s, 1.0), 1.0 / max(contrib.shape[1], 1))
    return contrib + gap[:, None] * w


# --- shared preprocessing -----------------------------------------------------------------------
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
        num = (X[NUMERIC_FEATURES].to_numpy(dtype=np.float64) - self.mean_) / self.scale_
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


# --- model families -----------------------------------------------------------------------------
class Family:
    """One model family: a small grid, fit, raw margin and exact contributions, save/load.

    ``X`` is always ``schema.feature_frame(df)``; ``y`` a 0/1 numpy array. ``__init__`` only
    stores parameters; ``fit`` learns attributes ending in ``_``.
    """

    name = ""
    label = ""
    model_file = ""
    GRIDS: dict[str, list[dict]] = {}
    #: A parameter whose smaller values are prefixes of one fit (boosting rounds): grid points
    #: that differ only in it share one fit, read with ``staged_margin(X, value)``.
    STAGE_PARAM: str | None = None

    def __init__(self, params: dict | None = None, seed: int = 42, n_jobs: int = 2):
        self.params = dict(params or {})
        self.seed = seed
        self.n_jobs = n_jobs

    @classmethod
    def make(cls, params: dict, seed: int, n_jobs: int = 2) -> "Family":
        """An unfitted model of this family with the given hyperparameters."""
        return cls(params, seed, n_jobs)

    @classmethod
    def grid(cls, size: str = "full") -> list[dict]:
        """The hyperparameter points cross-validation tries (``size``: "full" or "small")."""
        return [dict(p) for p in cls.GRIDS[size]]

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> "Family":
        raise NotImplementedError

    def _fit_threads(self, n_rows: int) -> int:
        """Threads for fitting: 1 below 50,000 rows (thread start-up and OpenMP barriers cost
        more than they save on small data, badly so on a busy machine), else n_jobs."""
        return 1 if n_rows < 50_000 else self.n_jobs

    def _predict_threads(self, n_rows: int) -> int:
        """Threads for predicting: 1 for a few rows (a what-if or API rescore otherwise waits on
        a thread pool), else n_jobs."""
        return 1 if n_rows < 2000 else self.n_jobs

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """Raw score in log-odds (before calibration), float64, one per row."""
        raise NotImplementedError

    def contributions(self, X: pd.DataFrame) -> tuple[float, np.ndarray]:
        """(base margin, n × len(FEATURES) contributions) with base + row sum == margin(X)."""
        if len(X) == 0:
            base, _ = self._contributions(_template_features())
            return base, np.zeros((0, len(FEATURES)))
        return self._contributions(X)

    def _contributions(self, X: pd.DataFrame) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def save(self, folder: Path) -> list[str]:
        """Write the fitted model into ``folder``; return the file names written."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, params: dict, seed: int, n_jobs: int = 2) -> "Family":
        raise NotImplementedError


class _OneHotFamily(Family):
    """Shared parts of the families that read the one-hot preprocessing pipeline."""

    scale = False

    def _fit_preprocess(self, X):
        self.preprocess_ = make_preprocessor(self.scale).fit(X)
        return self.preprocess_.transform(X)

    def _z(self, X) -> np.ndarray:
        return np.asarray(self.preprocess_.transform(X), dtype=np.float64)

    def _save_preprocess(self, folder: Path) -> str:
        import joblib

        joblib.dump(self.preprocess_, folder / PREPROCESS_FILE)
        return PREPROCESS_FILE

    @classmethod
    def _load_preprocess(cls, obj, folder: Path):
        import joblib

        obj.preprocess_ = joblib.load(folder / PREPROCESS_FILE)
        return obj


class LogisticFamily(_OneHotFamily):
    """L2 logistic regression on scaled numerics + one-hot categories, class_weight="balanced".

    Grid: C (inverse regularisation strength). Contributions: coef × (z - training mean of z),
    exact in log-odds; base = intercept + coef · training mean.
    """

    name = "lr"
    label = "Logistic regression"
    model_file = "model.joblib"
    scale = True
    GRIDS = {"full": [{"C": 0.1}, {"C": 1.0}, {"C": 10.0}], "small": [{"C": 1.0}]}

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        Z = self._fit_preprocess(X)
        self.estimator_ = LogisticRegression(C=float(self.params.get("C", 1.0)),
                                             class_weight="balanced", max_iter=5000)
        self.estimator_.fit(Z, y)
        self.train_mean_ = np.asarray(Z, dtype=float).mean(axis=0)
        return self

    def margin(self, X):
        return self._z(X) @ self.estimator_.coef_[0] + float(self.estimator_.intercept_[0])

    def _contributions(self, X):
        coef = self.estimator_.coef_[0]
        Z = self._z(X)
        base = float(self.estimator_.intercept_[0] + coef @ self.train_mean_)
        contrib = ((Z - self.train_mean_) * coef) @ onehot_feature_map()
        return base, _close_gap(base, contrib, Z @ coef + float(self.estimator_.intercept_[0]))

    def save(self, folder):
        import joblib

        joblib.dump({"estimator": self.estimator_, "train_mean": self.train_mean_},
                    folder / self.model_file)
        return [self.model_file, self._save_preprocess(folder)]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        import joblib

        obj = cls(params, seed, n_jobs)
        saved = joblib.load(folder / cls.model_file)
        obj.estimator_, obj.train_mean_ = saved["estimator"], np.asarray(saved["train_mean"])
        return cls._load_preprocess(obj, folder)


class ForestFamily(_OneHotFamily):
    """Random forest (scikit-learn), class_weight="balanced_subsample", one-hot input.

    Margin: logit of the forest's probability clipped to [1e-4, 1 - 1e-4]. Contributions:
    TreeSHAP on the probability, moved to log-odds by proportional allocation (module docstring).
    Trees are kept moderate (100 trees, depth ≤ 8, ≥ 20 rows a leaf) because TreeSHAP cost grows
    with leaves × depth²; even so the forest explains only ~1,000 rows/s (the boosters ~10-40k).
    """

    name = "rf"
    label = "Random forest"
    model_file = "model.joblib"
    CLIP = 1e-4
    GRIDS = {
        "full": [{"n_estimators": 100, "max_depth": 6, "min_samples_leaf": 20},
                 {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 20}],
        "small": [{"n_estimators": 60, "max_depth": 6, "min_samples_leaf": 20}],
    }

    def fit(self, X, y):
        from sklearn.ensemble import RandomForestClassifier

        Z = self._fit_preprocess(X)
        p = self.params
        self.estimator_ = RandomForestClassifier(
            n_estimators=int(p.get("n_estimators", 100)), max_depth=p.get("max_depth", 8),
            min_samples_leaf=int(p.get("min_samples_leaf", 20)), max_features="sqrt",
            class_weight="balanced_subsample", n_jobs=self.n_jobs, random_state=self.seed)
        self.estimator_.fit(Z, y)
        # Predict on one thread: scikit-learn adds the trees' votes in thread-completion order,
        # which changes the last bits of the probabilities from run to run.
        self.estimator_.n_jobs = 1
        return self

    def _prob(self, Z):
        return self.estimator_.predict_proba(Z)[:, 1]

    def margin(self, X):
        return _logit(np.clip(self._prob(self._z(X)), self.CLIP, 1 - self.CLIP))

    def _explainer(self):
        if getattr(self, "_explainer_", None) is None:
            import shap

            self._explainer_ = shap.TreeExplainer(self.estimator_)
        return self._explainer_

    def _contributions(self, X):
        Z = self._z(X)
        ex = self._explainer()
        sv = np.asarray(ex.shap_values(Z, check_additivity=False), dtype=float)
        if sv.ndim == 3:  # (rows, columns, classes)
            sv = sv[:, :, 1]
        base_p = float(np.ravel(ex.expected_value)[-1])
        margin = _logit(np.clip(self._prob(Z), self.CLIP, 1 - self.CLIP))
        base = float(_logit(np.clip(base_p, self.CLIP, 1 - self.CLIP)))
        dp = sv.sum(axis=1)
        pc = _sigmoid(margin)
        slope = np.where(np.abs(dp) > 1e-9, (margin - base) / np.where(np.abs(dp) > 1e-9, dp, 1.0),
                         1.0 / (pc * (1 - pc)))
        contrib = (sv * slope[:, None]) @ onehot_feature_map()
        return base, _close_gap(base, contrib, margin)

    def save(self, folder):
        import joblib

        joblib.dump(self.estimator_, folder / self.model_file)
        return [self.model_file, self._save_preprocess(folder)]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        import joblib

        obj = cls(params, seed, n_jobs)
        obj.estimator_ = joblib.load(folder / cls.model_file)
        obj.estimator_.n_jobs = 1
        return cls._load_preprocess(obj, folder)


class XGBoostFamily(_OneHotFamily):
    """XGBoost (hist trees) on one-hot input, scale_pos_weight = stayers / churners.

    Shallow trees keep exact contributions (``pred_contribs``) fast. Saved as ``model.ubj``.
    """

    name = "xgb"
    label = "XGBoost"
    model_file = "model.ubj"
    STAGE_PARAM = "n_estimators"
    GRIDS = {
        "full": [{"max_depth": d, "learning_rate": lr, "n_estimators": n}
                 for d in (2, 3) for lr in (0.05, 0.1) for n in (200, 300)],
        "small": [{"max_depth": 3, "learning_rate": 0.05, "n_estimators": 200}],
    }

    def _dmatrix(self, X, y=None):
        import xgboost as xgb

        Z = np.asarray(self.preprocess_.transform(X), dtype=np.float32)
        # One thread for small inputs (a what-if rescore): starting threads costs more than it saves.
        return xgb.DMatrix(Z, label=y, nthread=1 if len(Z) < 2000 else self.n_jobs)

    def fit(self, X, y):
        import xgboost as xgb

        self.preprocess_ = make_preprocessor(False).fit(X)
        pos = float(np.sum(y))
        neg = float(len(y) - pos)
        p = self.params
        booster_params = {
            "objective": "binary:logistic", "tree_method": "hist",
            "max_depth": int(p.get("max_depth", 3)), "eta": float(p.get("learning_rate", 0.1)),
            "scale_pos_weight": neg / pos if pos else 1.0, "nthread": self._fit_threads(len(y)),
            "seed": self.seed, "verbosity": 0,
        }
        self.booster_ = xgb.train(booster_params, self._dmatrix(X, y),
                                  num_boost_round=int(p.get("n_estimators", 200)))
        self.booster_.set_param({"nthread": self.n_jobs})
        return self

    def margin(self, X):
        return self._booster_for(len(X)).predict(self._dmatrix(X),
                                                 output_margin=True).astype(np.float64)

    def staged_margin(self, X, n_estimators: int) -> np.ndarray:
        """Margin of the first ``n_estimators`` trees (identical to a fit with that many rounds:
        no subsampling, so boosting is deterministic round by round)."""
        return self.booster_.predict(self._dmatrix(X), output_margin=True,
                                     iteration_range=(0, int(n_estimators))).astype(np.float64)

    def _booster_for(self, n_rows: int):
        """The booster to predict with: a one-thread copy for small inputs (a what-if rescore
        waits tens of milliseconds for OpenMP threads otherwise), the n_jobs one for batches."""
        if n_rows >= 2000:
            return self.booster_
        small = getattr(self, "_booster_1thread", None)
        if small is None:
            small = self.booster_.copy()
            small.set_param({"nthread": 1})
            self._booster_1thread = small
        return small

    def _contributions(self, X):
        dm = self._dmatrix(X)
        booster = self._booster_for(len(X))
        raw = booster.predict(dm, pred_contribs=True).astype(np.float64)
        margin = booster.predict(dm, output_margin=True).astype(np.float64)
        base = float(raw[0, -1])
        contrib = raw[:, :-1] @ onehot_feature_map()
        return base, _close_gap(base, contrib, margin)

    def save(self, folder):
        self.booster_.save_model(str(folder / self.model_file))
        return [self.model_file, self._save_preprocess(folder)]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        import xgboost as xgb

        obj = cls(params, seed, n_jobs)
        obj.booster_ = xgb.Booster()
        obj.booster_.load_model(str(folder / cls.model_file))
        obj.booster_.set_param({"nthread": n_jobs})
        return cls._load_preprocess(obj, folder)


class CatBoostFamily(Family):
    """CatBoost on the raw categories (``cat_features``), auto_class_weights="Balanced".

    ``max_ctr_complexity=1`` (no category combinations) keeps fitting fast on two cores; the
    contributions are CatBoost's exact ``ShapValues``, computed from per-tree leaf tables
    (`churn.catboost_shap`, checked against CatBoost on first use). Saved as ``model.cbm``.
    """

    name = "cat"
    label = "CatBoost"
    model_file = "model.cbm"
    CAT_INDEX = [FEATURES.index(c) for c in CATEGORICAL_FEATURES]
    GRIDS = {
        "full": [{"depth": d, "learning_rate": 0.08, "iterations": 300} for d in (3, 4)],
        "small": [{"depth": 4, "learning_rate": 0.1, "iterations": 150}],
    }

    def fit(self, X, y):
        from catboost import CatBoostClassifier

        p = self.params
        self.estimator_ = CatBoostClassifier(
            iterations=int(p.get("iterations", 300)), depth=int(p.get("depth", 4)),
            learning_rate=float(p.get("learning_rate", 0.08)), auto_class_weights="Balanced",
            max_ctr_complexity=1, random_seed=self.seed, thread_count=self._fit_threads(len(y)),
            verbose=False, allow_writing_files=False)
        self.estimator_.fit(X, y, cat_features=self.CAT_INDEX)
        return self

    def margin(self, X):
        return np.asarray(self.estimator_.predict(X, prediction_type="RawFormulaVal",
                                                  thread_count=self._predict_threads(len(X))),
                          dtype=np.float64)

    def _contributions(self, X):
        from catboost import Pool

        pool = Pool(X, cat_features=self.CAT_INDEX)
        tables = self._shap_tables(X)
        if tables is not None:   # the same exact values as CatBoost's, from leaf tables
            leaves = np.asarray(self.estimator_.calc_leaf_indexes(
                pool, thread_count=self._predict_threads(len(X))))
            return tables.base, _close_gap(tables.base, tables.values(leaves, X.shape[1]),
                                           self._pool_margin(pool))
        sv = np.asarray(self.estimator_.get_feature_importance(
            pool, type="ShapValues", thread_count=self.n_jobs), dtype=np.float64)
        base = float(sv[0, -1])
        return base, _close_gap(base, sv[:, :-1], self._pool_margin(pool))

    def _pool_margin(self, pool):
        """`margin` of rows already in a CatBoost Pool (one Pool per call instead of two)."""
        return np.asarray(self.estimator_.predict(
            pool, prediction_type="RawFormulaVal",
            thread_count=self._predict_threads(pool.num_row())), dtype=np.float64)

    def _shap_tables(self, X):
        """`churn.catboost_shap.ShapTables` of this model, built and checked against CatBoost's
        own SHAP values on the first rows seen (None, for good, when they differ)."""
        found = self.__dict__.get("_shap_tables_", False)
        if found is False:
            from catboost import Pool

            from churn.catboost_shap import CHECK_ROWS, ShapTables

            try:
                found = ShapTables.build(self.estimator_, X.shape[1])
                head = Pool(X.iloc[:CHECK_ROWS], cat_features=self.CAT_INDEX)
                if found is not None and not found.check(self.estimator_, head, X.shape[1]):
                    found = None
            except Exception:  # noqa: BLE001 - anything unexpected: CatBoost's own values
                found = None
            self._shap_tables_ = found
        return found

    def save(self, folder):
        self.estimator_.save_model(str(folder / self.model_file), format="cbm")
        return [self.model_file]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        from catboost import CatBoostClassifier

        obj = cls(params, seed, n_jobs)
        obj.estimator_ = CatBoostClassifier()
        obj.estimator_.load_model(str(folder / cls.model_file), format="cbm")
        return obj


#: The registry: family name -> Family subclass. Add a family here (and nowhere else).
FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in (LogisticFamily, ForestFamily, XGBoostFamily, CatBoostFamily)
}


# --- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """How to train and choose a model.

    families: family names from ``FAMILIES`` to compare. selection_metric: a key of
    ``churn.metrics.HIGHER_IS_BETTER`` (default "pr_auc"). threshold: decision threshold on the
    calibrated probability for recall/precision (0..1). folds: cross-validation folds (≥ 2).
    seed: for the folds and every model. grid: "full" or "small" (one point a family, for tests).
    n_jobs: threads each model may use.
    """

    families: tuple[str, ...] = ("lr", "rf", "xgb", "cat")
    selection_metric: str = "pr_auc"
    threshold: float = 0.5
    folds: int = 5
    seed: int = 42
    grid: str = "full"
    n_jobs: int = 2

    def checked(self) -> "TrainConfig":
        """This config with ``families`` as a tuple, or ValueError naming the bad value."""
        fams = (self.families,) if isinstance(self.families, str) else tuple(self.families)
        if not fams:
            raise ValueError("families is empty; choose at least one of: " + ", ".join(FAMILIES))
        for f in fams:
            if f not in FAMILIES:
                raise ValueError(f"Unknown model family {f!r}; choose from: {', '.join(FAMILIES)}.")
        if len(set(fams)) != len(fams):
            raise ValueError(f"families lists a family twice: {', '.join(fams)}.")
        if self.selection_metric not in M.HIGHER_IS_BETTER:
            raise ValueError(f"Unknown selection metric {self.selection_metric!r}; choose from: "
                             + ", ".join(M.HIGHER_IS_BETTER) + ".")
        if not 0 < float(self.threshold) < 1:
            raise ValueError(f"threshold={self.threshold!r} must be a probability strictly "
                             "between 0 and 1.")
        if int(self.folds) < 2:
            raise ValueError(f"folds={self.folds!r}: cross-validation needs at least 2 folds.")
        if self.grid not in ("full", "small"):
            raise ValueError(f"grid={self.grid!r} must be 'full' or 'small'.")
        if int(self.n_jobs) < 1:
            raise ValueError(f"n_jobs={self.n_jobs!r} must be at least 1.")
        return TrainConfig(fams, self.selection_metric, float(self.threshold), int(self.folds),
                           int(self.seed), self.grid, int(self.n_jobs))

    def to_dict(self) -> dict:
        return {"families": list(self.families), "selection_metric": self.selection_metric,
                "threshold": self.threshold, "folds": self.folds, "seed": self.seed,
                "grid": self.grid, "n_jobs": self.n_jobs}


def _dist_version(*names: str) -> str:
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def library_versions() -> dict[str, str]:
    """Versions of every library a saved model depends on (part of the fingerprint).

    Read from the installed package metadata, so checking a cached model does not import
    XGBoost, CatBoost and scikit-learn (seconds on a cold start). XGBoost may be installed as
    ``xgboost`` or as the CPU-only ``xgboost-cpu`` build (the same module).
    """
    return {"python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "sklearn": _dist_version("scikit-learn"),
            "xgboost": _dist_version("xgboost", "xgboost-cpu"),
            "catboost": _dist_version("catboost")}


# --- the model ----------------------------------------------------------------------------------
def _check_frame(df: pd.DataFrame, what: str) -> pd.DataFrame:
    """schema.feature_frame(df) after checking columns and category values (caller errors)."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} takes a canonical DataFrame, got {type(df).__name__}.")
    missing = [c for c in FEATURES if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs the schema feature columns; missing: {', '.join(missing)}. "
                         "Validate the file with churn.validate first.")
    for c in CATEGORICAL_FEATURES:
        values = df[c].to_numpy()
        bad = schema.category_codes(values, c) < 0
        if bad.any():
            vals = ", ".join(repr(v) for v in pd.unique(values[bad])[:3])
            raise ValueError(f"{what}: column {c} has values the model does not know: {vals}. "
                             "Validate the file with churn.validate first.")
    bad = [c for c in NUMERIC_FEATURES
           if c != schema.TOTAL and pd.isna(df[c].to_numpy()).any()]
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


def progress_text(stage: str, elapsed: float, done: int, total: int) -> str:
    """A training step as a retention manager reads it: "Training model 2 of 4 (Random
    forest) — about 40 s left". The time left is the time per step so far × the steps left
    (seconds under a minute, else whole minutes; nothing at the last step)."""
    left = elapsed / max(done, 1) * max(total - done, 0)
    if done >= total or left < 1:
        return stage
    when = f"about {left:.0f} s left" if left < 60 else f"about {left / 60:.0f} min left"
    return f"{stage} — {when}"


@dataclass
class TrainResult:
    """What ``train`` returns. ``cached``: loaded from the cache instead of trained; ``seconds``:
    wall time of this call; ``warnings``: cache problems found and repaired on the way."""

    model: ChurnModel
    cached: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def metadata(self) -> dict:
        return self.model.metadata

    @property
    def selected(self) -> str:
        return self.model.family

    @property
    def metrics(self) -> dict[str, dict]:
        """family -> mean cross-validated metrics (calibrated OOF probabilities)."""
        return {f: d["cv"] for f, d in self.metadata["families"].items()}

    def comparison(self) -> pd.DataFrame:
        """One row per family: the report metrics, chosen hyperparameters and a selected flag."""
        return comparison_table(self.metadata)


def comparison_table(metadata: dict) -> pd.DataFrame:
    """Comparison of the families in a version's metadata (index: family name)."""
    rows = []
    for name, d in metadata["families"].items():
        row = {"family": name, "label": d["label"], "selected": name == metadata["selected"]}
        row.update({k: d["cv"].get(k) for k in REPORT_METRICS})
        row["params"] = json.dumps(d["params"], sort_keys=True)
        rows.append(row)
    return pd.DataFrame(rows).set_index("family")


# --- fingerprint ---------------------------------------------------------------------------------
def _training_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns train uses (customerID if present, FEATURES, Churn), checked."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"train takes a canonical DataFrame, got {type(df).__name__}.")
    if TARGET not in df.columns:
        raise ValueError("train needs the Churn column (0/1): this data has no outcomes to learn "
                         "from. Customers without Churn can be scored, not trained on.")
    X = _check_frame(df, "train")
    y = df[TARGET]
    if y.isna().any() or not set(pd.unique(y)).issubset({0, 1}):
        found = sorted(map(str, pd.unique(y)))[:5]
        raise ValueError(f"Churn must hold 0/1 integers; found {found}. "
                         "Validate the file with churn.validate first.")
    out = X.reset_index(drop=True)
    if ID in df.columns:
        out.insert(0, ID, df[ID].astype(str).to_numpy())
    out[TARGET] = y.astype(int).to_numpy()
    return out


def data_fingerprint(df: pd.DataFrame) -> str:
    """sha256 of a canonical frame's content (customerID, FEATURES, Churn; row order counts)."""
    frame = _training_frame(df) if TARGET in df.columns else _check_frame(df, "fingerprint")
    h = hashlib.sha256()
    h.update(json.dumps(list(frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def fingerprint(df: pd.DataFrame, config: TrainConfig) -> str:
    """sha256 of the data content, the config, the library versions and MODEL_FORMAT."""
    blob = {"data": data_fingerprint(df), "config": config.checked().to_dict(),
            "libraries": library_versions(), "format": MODEL_FORMAT}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


# --- cross-validation ----------------------------------------------------------------------------
def fold_ids(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold number (0..folds-1) of every row, shuffled with ``seed``."""
    from sklearn.model_selection import StratifiedKFold

    out = np.empty(len(y), dtype=int)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, te) in enumerate(skf.split(np.zeros(len(y)), y)):
        out[te] = k
    return out


def cross_fitted_platt(margin: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Calibrated OOF probabilities: fold k mapped by a Platt fit on the other folds' margins."""
    out = np.empty(len(margin))
    for k in np.unique(folds):
        te = folds == k
        a, b = fit_platt(margin[~te], y[~te])
        out[te] = _sigmoid(a * margin[te] + b)
    return out


def _fold_mean(y, p, folds, threshold) -> tuple[dict, dict]:
    per = [M.summary(y[folds == k], p[folds == k], threshold) for k in np.unique(folds)]
    keys = [k for k in per[0] if k not in ("n", "churn_rate")]
    mean = {k: float(np.nanmean([d[k] for d in per])) for k in keys}
    std = {k: float(np.nanstd([d[k] for d in per])) for k in keys}
    return mean, std


def _better(metric: str, a: float, b: float) -> bool:
    """Is value a strictly better than b for metric (NaN is worst)?"""
    if np.isnan(a):
        return False
    if np.isnan(b):
        return True
    return a > b if M.HIGHER_IS_BETTER[metric] else a < b


def segment_metrics(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """{column: {value: metrics}} for the SEGMENTS columns, from OOF probabilities p."""
    out = {}
    for col in SEGMENTS:
        out[col] = {}
        for value in sorted(pd.unique(frame[col]), key=str):
            m = (frame[col] == value).to_numpy()
            s = M.summary(y[m], p[m], threshold)
            s["mean_predicted"] = float(p[m].mean())
            out[col][str(value)] = s
    return out


def _n_fits(cls: type[Family], size: str) -> int:
    """Distinct fits per fold for a family's grid (staged points share a fit)."""
    st = cls.STAGE_PARAM
    return len({json.dumps({k: v for k, v in p.items() if k != st}, sort_keys=True)
                for p in cls.grid(size)})


def _evaluate_family(name: str, X: pd.DataFrame, y: np.ndarray, folds: np.ndarray,
                     config: TrainConfig, tick: Callable[[str], None]) -> dict:
    """Cross-validate every grid point of a family; keep the best by the selection metric."""
    cls = FAMILIES[name]
    t0 = time.perf_counter()
    grid = cls.grid(config.grid)
    stage = cls.STAGE_PARAM
    groups: dict[str, list[int]] = {}
    for i, params in enumerate(grid):
        key = json.dumps({k: v for k, v in params.items() if k != stage}, sort_keys=True)
        groups.setdefault(key, []).append(i)
    margins = {i: np.empty(len(y)) for i in range(len(grid))}
    for members in groups.values():
        fit_i = max(members, key=lambda i: grid[i].get(stage, 0)) if stage else members[0]
        for k in range(config.folds):
            tr = np.flatnonzero(folds != k)
            te = np.flatnonzero(folds == k)
            model = cls.make(grid[fit_i], config.seed, config.n_jobs).fit(X.iloc[tr], y[tr])
            for i in members:
                margins[i][te] = (model.staged_margin(X.iloc[te], grid[i][stage]) if stage
                                  else model.margin(X.iloc[te]))
            tick(f"{cls.label} {grid[fit_i]} fold {k + 1}/{config.folds}")
    best = None
    grid_rows = []
    for i, params in enumerate(grid):
        margin = margins[i]
        prob = cross_fitted_platt(margin, y, folds)
        cv, cv_std = _fold_mean(y, prob, folds, config.threshold)
        grid_rows.append({"params": params, "cv": cv})
        cand = {"params": params, "margin": margin, "prob": prob, "cv": cv, "cv_std": cv_std}
        metric = config.selection_metric
        if best is None or _better(metric, cv[metric], best["cv"][metric]):
            best = cand
    best["grid"] = grid_rows
    best["seconds"] = time.perf_counter() - t0
    return best


# --- cache: files ---------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def jsonable(obj):
    """Replace NaN/inf floats by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if np.isfinite(v) else None
    return obj


def _models_dir(models_dir) -> Path:
    if models_dir is None:
        from churn.config import paths

        return paths().models_dir
    return Path(models_dir)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _sweep(models_dir: Path) -> list[str]:
    """Remove half-written temp folders of dead processes and leftover trash; return warnings."""
    out = []
    if not models_dir.is_dir():
        return out
    for entry in models_dir.iterdir():
        if entry.name.startswith(TRASH_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(TMP_PREFIX) and entry.is_dir():
            parts = entry.name[len(TMP_PREFIX):].split("-")
            pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None
            age = time.time() - entry.stat().st_mtime
            fresh = age < STALE_TMP_SECONDS
            if fresh and pid is not None and (pid == os.getpid() or _pid_alive(pid)):
                continue  # a live process (maybe this one, in another thread) is writing it
            shutil.rmtree(entry, ignore_errors=True)
            out.append(f"Removed a half-written model folder {entry.name} (left by an interrupted "
                       "training).")
    return out


def _read_metadata(folder: Path) -> dict:
    path = folder / METADATA
    if not path.is_file():
        raise ModelCacheError(f"model version {folder.name}: {METADATA} is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCacheError(f"model version {folder.name}: {METADATA} is not valid JSON ({exc})")
    if not isinstance(meta, dict):
        raise ModelCacheError(f"model version {folder.name}: {METADATA} does not hold an object")
    return meta


_REQUIRED_KEYS = ("format", "version", "fingerprint", "family", "params", "calibration",
                  "libraries", "artifacts", "families", "selected", "config")


def _verify(folder: Path) -> dict:
    """Metadata of a version folder after checking it completely, or ModelCacheError."""
    meta = _read_metadata(folder)
    missing = [k for k in _REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelCacheError(f"model version {folder.name}: metadata lacks {', '.join(missing)}")
    if meta["version"] != folder.name:
        raise ModelCacheError(f"model version {folder.name}: metadata names version "
                              f"{meta['version']!r}")
    if meta["format"] != MODEL_FORMAT:
        raise ModelCacheError(f"model version {folder.name}: saved in format {meta['format']!r}, "
                              f"this code reads format {MODEL_FORMAT}")
    if meta["family"] not in FAMILIES:
        raise ModelCacheError(f"model version {folder.name}: unknown family {meta['family']!r}")
    now = library_versions()
    if meta["libraries"] != now:
        diff = [f"{k} {meta['libraries'].get(k)} (now {v})" for k, v in now.items()
                if meta["libraries"].get(k) != v] if isinstance(meta["libraries"], dict) else []
        raise ModelCacheError(f"model version {folder.name}: built with other library versions: "
                              + (", ".join(diff) or "unreadable list"))
    arts = meta["artifacts"]
    if not isinstance(arts, dict) or not arts:
        raise ModelCacheError(f"model version {folder.name}: no artifact checksums in metadata")
    for name, digest in arts.items():
        path = folder / name
        if not path.is_file():
            raise ModelCacheError(f"model version {folder.name}: file {name} is missing")
        if _sha256(path) != digest:
            raise ModelCacheError(f"model version {folder.name}: file {name} does not match its "
                                  "checksum (changed or damaged)")
    cal = meta["calibration"]
    if not (isinstance(cal, dict) and all(isinstance(cal.get(k), (int, float)) for k in "ab")):
        raise ModelCacheError(f"model version {folder.name}: calibration parameters unreadable")
    return meta


def _load_folder(folder: Path, n_jobs: int | None = None) -> ChurnModel:
    meta = _verify(folder)
    cls = FAMILIES[meta["family"]]
    cfg = meta["config"]
    try:
        est = cls.load(folder, meta["params"], int(cfg.get("seed", 42)),
                       int(n_jobs or cfg.get("n_jobs", 2)))
    except Exception as exc:  # a library refusing the file: report, never serve
        raise ModelCacheError(f"model version {folder.name}: the {cls.label} model could not be "
                              f"loaded ({type(exc).__name__}: {exc})") from exc
    cal = meta["calibration"]
    calibration = (float(cal["a"]), float(cal["b"]))
    return ChurnModel(meta["version"], meta["family"], est, calibration, meta)


def _atomic_write_text(path: Path, text: str) -> None:
    from churn.files import write_text

    write_text(path, text)


def _run_info(folder: Path) -> dict | None:
    from churn import tracking

    return tracking.run_info(folder)


# --- cache: public API ---------------------------------------------------------------------------
def _is_version_name(name: str) -> bool:
    """Version ids are the first 16 hex digits of a fingerprint."""
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


def active_version(models_dir=None) -> str | None:
    """The version id in the ACTIVE pointer, or None when there is none."""
    path = _models_dir(models_dir) / ACTIVE_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def activate(version: str, models_dir=None) -> list[str]:
    """Make ``version`` the active model (checked first; the pointer is written atomically).

    The ``ACTIVE`` pointer is the one source of truth for the active model; the MLflow registry's
    ``champion`` alias is then moved to it (``churn.tracking``; MLflow is imported only here).
    This is the activation the app, the command line and the API all call.
    Returns warnings (e.g. the tracking server could not be reached; the switch still happened).
    Raises ValueError for an unknown version and ModelCacheError for an unusable one.
    """
    d = _models_dir(models_dir)
    folder = d / str(version)
    if not _is_version_name(str(version)) or not folder.is_dir():
        known = [v["version"] for v in list_versions(d)]
        raise ValueError(f"Unknown model version {version!r}; known versions: "
                         + (", ".join(known) if known else "none (train a model first)") + ".")
    _verify(folder)
    _atomic_write_text(d / ACTIVE_FILE, f"{version}\n")
    return _track(d, str(version), "champion")


def list_versions(models_dir=None) -> list[dict]:
    """Every version folder, newest first: version, created, family, selection metric and value,
    rows, active (bool), usable (bool), problem (why it is not usable, else None), mlflow_run
    and mlflow_model_version (its MLflow run id and registered ``churn`` version, else None)."""
    d = _models_dir(models_dir)
    if not d.is_dir():
        return []
    active = active_version(d)
    out = []
    for folder in d.iterdir():
        if not folder.is_dir() or not _is_version_name(folder.name):
            continue  # temp/trash folders and other tools' folders (e.g. "_parts")
        row = {"version": folder.name, "created": None, "family": None, "selection_metric": None,
               "score": None, "rows": None, "active": folder.name == active, "usable": True,
               "problem": None, "mlflow_run": None, "mlflow_model_version": None}
        run = _run_info(folder)
        if run:
            row.update(mlflow_run=run.get("run_id"), mlflow_model_version=run.get("model_version"))
        try:
            meta = _verify(folder)
        except ModelCacheError as exc:
            row.update(usable=False, problem=str(exc))
            try:
                meta = _read_metadata(folder)
            except ModelCacheError:
                meta = {}
        if meta:
            metric = meta.get("selection_metric")
            fam = meta.get("family")
            row.update(created=meta.get("created"), family=fam, selection_metric=metric,
                       rows=meta.get("n_rows"))
            try:
                row["score"] = meta["families"][fam]["cv"][metric]
            except (KeyError, TypeError):
                pass
        out.append(row)
    out.sort(key=lambda r: (r["created"] or "", r["version"]), reverse=True)
    return out


def load_version(version: str, models_dir=None, n_jobs: int | None = None) -> ChurnModel:
    """The model of one version, after verifying metadata, checksums and library versions.

    Raises ValueError for an unknown version, ModelCacheError for an unusable one.
    """
    folder = _models_dir(models_dir) / str(version)
    if not _is_version_name(str(version)) or not folder.is_dir():
        raise ValueError(f"Unknown model version {version!r} in {folder.parent}.")
    return _load_folder(folder, n_jobs)


def load_active(models_dir=None, n_jobs: int | None = None) -> ChurnModel:
    """The active model. NoModelError when none is active; ModelCacheError when it is unusable."""
    d = _models_dir(models_dir)
    version = active_version(d)
    if version is None:
        raise NoModelError(f"No active model in {d}: train one first "
                           "(`python -m churn train` or the Model page).")
    if not _is_version_name(version):
        raise ModelCacheError(f"The active-model pointer {d / ACTIVE_FILE} is damaged (it reads "
                              f"{version[:40]!r}); train again or activate a version.")
    folder = d / version
    if not folder.is_dir():
        raise ModelCacheError(f"The active model version {version} is missing from {d}; "
                              "train again or activate another version.")
    return _load_folder(folder, n_jobs)


# --- training -----------------------------------------------------------------------------------
def _write_version(models_dir: Path, version: str, est: Family, oof: pd.DataFrame,
                   meta: dict) -> Path:
    """Write a complete version into a temp folder, then rename it into place atomically."""
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f"{TMP_PREFIX}{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = est.save(tmp)
        oof.to_parquet(tmp / OOF_FILE, index=False)
        files.append(OOF_FILE)
        meta["artifacts"] = {f: _sha256(tmp / f) for f in files}
        text = json.dumps(jsonable(meta), indent=1, allow_nan=False)
        with open(tmp / METADATA, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        final = models_dir / version
        if final.exists():
            try:  # another process finished the same version first: keep theirs
                _verify(final)
                shutil.rmtree(tmp, ignore_errors=True)
                return final
            except ModelCacheError:
                pass
            trash = models_dir / f"{TRASH_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, final)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def train(df: pd.DataFrame, config: TrainConfig | None = None, models_dir=None, *,
          store=None, progress: Callable[[float, str], None] | None = None,
          activate: bool = True) -> TrainResult:
    """Train (or load from the cache) the families in ``config``; make the result active unless
    ``activate`` is False (a candidate to compare with the active model before switching).

    df: canonical frame with Churn 0/1 (extra columns ignored). config: ``TrainConfig()`` by
    default. models_dir: the cache folder (default ``config.paths().models_dir``). store: an
    optional ``churn.store.Store``; the resulting version is recorded in its run log with
    ``record_model_run(version, metadata)``, trained or loaded from the cache.
    Every version is logged once to MLflow and registered as model ``churn`` (``churn.tracking``);
    the alias ``champion`` follows the active version, ``challenger`` marks a version trained with
    ``activate=False``. Tracking problems become warnings; the model is kept whatever MLflow does.
    progress: optional callback(fraction 0..1, message), called after every fit.
    Raises ValueError for caller errors (no Churn column, one class only, bad config).
    """
    t0 = time.perf_counter()
    config = (config or TrainConfig()).checked()
    d = _models_dir(models_dir)
    frame = _training_frame(df)
    y = frame[TARGET].to_numpy()
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if min(pos, neg) < config.folds:
        raise ValueError(f"Churn has {pos} churners and {neg} customers who stayed; "
                         f"{config.folds}-fold cross-validation needs at least {config.folds} "
                         "of each.")
    fp = fingerprint(frame, config)
    version = fp[:16]
    warnings = _sweep(d)
    folder = d / version
    if folder.exists():
        try:
            model = _load_folder(folder, config.n_jobs)
            if model.metadata.get("fingerprint") != fp:
                raise ModelCacheError(f"model version {version}: fingerprint does not match")
            if activate:
                _atomic_write_text(d / ACTIVE_FILE, f"{version}\n")
            _record(store, model, warnings)
            warnings += _track(d, version, "champion" if activate else "challenger")
            return TrainResult(model, True, time.perf_counter() - t0, warnings)
        except ModelCacheError as exc:
            warnings.append(f"Cached {exc}; retrained it.")

    # MLflow's import and store open in a child process while the models train (churn.tracking)
    job = _start_tracking(d)
    try:
        result = _train_new(frame, y, config, d, fp, version, warnings, store, progress,
                            activate, t0)
    except BaseException:
        if job is not None:
            job.cancel()
        raise
    result.warnings += _track(d, version, "champion" if activate else "challenger", job)
    return result


def _train_new(frame, y, config, d, fp, version, warnings, store, progress, activate,
               t0) -> TrainResult:
    """`train`'s work when the version is not cached: fit, select, calibrate, save, activate."""
    X = frame[FEATURES]
    folds = fold_ids(y, config.folds, config.seed)
    total = sum(_n_fits(FAMILIES[f], config.grid) for f in config.families) * config.folds + 1
    done = [0]
    started = time.perf_counter()

    def tick(stage: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(min(done[0] / total, 1.0),
                     progress_text(stage, time.perf_counter() - started, done[0], total))

    def family_tick(i: int, name: str):
        stage = (f"Training model {i + 1} of {len(config.families)} "
                 f"({FAMILIES[name].label})")
        return lambda _detail: tick(stage)

    from threadpoolctl import threadpool_limits

    # Single-threaded BLAS: the fits are small, and OpenBLAS threads on a busy 2-core machine
    # slowed logistic regression ten-fold in measurements.
    with threadpool_limits(limits=1, user_api="blas"):
        results = {name: _evaluate_family(name, X, y, folds, config, family_tick(i, name))
                   for i, name in enumerate(config.families)}
        metric = config.selection_metric
        selected = None
        for name in config.families:
            if selected is None or _better(metric, results[name]["cv"][metric],
                                           results[selected]["cv"][metric]):
                selected = name
        best = results[selected]
        cls = FAMILIES[selected]
        est = cls.make(best["params"], config.seed, config.n_jobs).fit(X, y)
    a, b = fit_platt(best["margin"], y)
    tick(f"Training the chosen model ({cls.label}) on all {len(y):,} customers")

    oof = pd.DataFrame({ID: frame[ID] if ID in frame else np.arange(len(y)).astype(str),
                        TARGET: y, "fold": folds})
    for col in SEGMENTS:
        oof[col] = frame[col].to_numpy()
    fam_meta = {}
    for name, r in results.items():
        oof[f"p_{name}"] = r["prob"]
        fam_meta[name] = {
            "label": FAMILIES[name].label, "params": r["params"], "grid": r["grid"],
            "cv": r["cv"], "cv_std": r["cv_std"],
            "oof": M.summary(y, r["prob"], config.threshold),
            "curves": M.curves(y, r["prob"]),
            "segments": segment_metrics(frame, y, r["prob"], config.threshold),
            "seconds": r["seconds"],
        }
    meta = {
        "format": MODEL_FORMAT, "version": version, "fingerprint": fp,
        "data_fingerprint": data_fingerprint(frame),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config.to_dict(), "libraries": library_versions(),
        "features": list(FEATURES), "n_rows": int(len(y)), "churn_rate": float(y.mean()),
        "selected": selected, "family": selected, "selection_metric": metric,
        "params": best["params"], "calibration": {"a": a, "b": b},
        "segments": fam_meta[selected]["segments"], "families": fam_meta,
        "oof_file": OOF_FILE, "train_seconds": time.perf_counter() - t0,
    }
    _write_version(d, version, est, oof, meta)
    model = _load_folder(d / version, config.n_jobs)
    if activate:
        _atomic_write_text(d / ACTIVE_FILE, f"{version}\n")
    _record(store, model, warnings)
    return TrainResult(model, False, time.perf_counter() - t0, warnings)


def _start_tracking(models_dir: Path):
    """`churn.tracking.start`: the child process that will log the version (None: off)."""
    from churn import tracking

    return tracking.start(models_dir)


def _track(models_dir: Path, version: str, alias: str, job=None) -> list[str]:
    """Log the version to MLflow (once) and point ``alias`` at it, through the tracking job
    (`churn.tracking.track`: waited for unless ``CHURN_TRACKING=background``); warnings, never
    an error."""
    from churn import tracking

    return tracking.track(models_dir, version, alias, job)


def _record(store, model: ChurnModel, warnings: list[str]) -> None:
    """Record the version in the store's run log, if a store is given; problems become warnings.
    (Which version is active is not recorded there: the ACTIVE pointer is the one source.)"""
    if store is None:
        return
    try:
        store.record_model_run(model.version, model.metadata)
    except Exception as exc:  # the model is fine; the log entry is a nice-to-have
        warnings.append(f"Could not record the model run in the store ({type(exc).__name__}: "
                        f"{exc}).")


def active_or_train(df: pd.DataFrame, config: TrainConfig | None = None, models_dir=None, *,
                    store=None, progress: Callable[[float, str], None] | None = None) -> ChurnModel:
    """The active model when one loads cleanly, else ``train(df, config, models_dir)``'s model.

    For callers that need *a* model (the app's first start, the score command): an active model is
    used as is, whatever data it was trained on; a missing or unusable one is (re)trained.
    """
    try:
        return load_active(models_dir)
    except (NoModelError, ModelCacheError):
        return train(df, config, models_dir, store=store, progress=progress).model


def load_oof(version: str, models_dir=None) -> pd.DataFrame:
    """The out-of-fold predictions of a version: customerID, Churn, fold, the SEGMENTS columns and
    ``p_<family>`` (cross-fitted calibrated P(churn)) for every family compared. For the model
    report page's curves and tables (``churn.metrics`` computes them from y and p)."""
    folder = _models_dir(models_dir) / str(version)
    if not _is_version_name(str(version)) or not folder.is_dir():
        raise ValueError(f"Unknown model version {version!r} in {folder.parent}.")
    meta = _verify(folder)
    return pd.read_parquet(folder / meta.get("oof_file", OOF_FILE))
