"""Churn models: four families behind one interface, honest cross-validation, calibration, a cache.

What and why
------------
``train(df, config, models_dir)`` takes a canonical frame with ``Churn`` (0/1) and returns a
``TrainResult`` whose ``model`` is a ``ChurnModel``: calibrated P(churn) for any canonical frame,
plus exact per-feature contributions in log-odds. Trained versions are cached on disk, keyed by a
fingerprint of the data, the configuration and the library versions, so the app and the command
line reuse a model instead of retraining it.

Families (``FAMILIES``; adding one means adding one module to ``churn/models/families/``)
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

Package layout (each module holds one concern; this ``__init__`` re-exports the public names, so
callers write ``from churn import models; models.train(...)``)

- ``encoding``     the shared one-hot preprocessing (``SchemaEncoder``, ``onehot_feature_map``)
- ``calibration``  Platt scaling (``fit_platt``, ``cross_fitted_platt``)
- ``family``       the ``Family`` interface and the self-filling ``FAMILIES`` registry
- ``families/``    one module per family: ``lr``, ``rf``, ``xgb``, ``cat``
- ``config``       ``TrainConfig`` and ``library_versions``
- ``model``        ``ChurnModel`` (calibrated probabilities and contributions)
- ``cv``           cross-validation of one family over its grid
- ``registry``     versions on disk: save, verify, load, list, activate (``ModelCacheError``)
- ``training``     ``train``, the fingerprint, ``TrainResult``, the comparison table

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

from churn.models.calibration import _logit, _sigmoid, cross_fitted_platt, fit_platt
from churn.models.encoding import (SchemaEncoder, _template_features, make_preprocessor,
                                   onehot_feature_map)
from churn.models.family import FAMILIES, PREPROCESS_FILE, Family, _close_gap, _OneHotFamily
from churn.models.families.cat import CatBoostFamily
from churn.models.families.lr import LogisticFamily
from churn.models.families.rf import ForestFamily
from churn.models.families.xgb import XGBoostFamily
from churn.models.config import TrainConfig, library_versions
from churn.models.model import ChurnModel, _check_frame
from churn.models.cv import SEGMENTS, fold_ids, segment_metrics
from churn.models.registry import (ACTIVE_FILE, METADATA, MODEL_FORMAT, OOF_FILE,
                                   STALE_TMP_SECONDS, TMP_PREFIX, TRASH_PREFIX, ModelCacheError,
                                   NoModelError, _is_version_name, _sha256, _verify, activate,
                                   active_version, jsonable, list_versions, load_active,
                                   load_oof, load_version)
from churn.models.training import (REPORT_METRICS, TrainResult, active_or_train, comparison_table,
                                   data_fingerprint, fingerprint, progress_text, train)
from churn.schema import FEATURES, ID, TARGET

__all__ = [
    "ACTIVE_FILE", "CatBoostFamily", "ChurnModel", "FAMILIES", "FEATURES", "Family",
    "ForestFamily", "ID", "LogisticFamily", "METADATA", "MODEL_FORMAT", "ModelCacheError",
    "NoModelError", "OOF_FILE", "PREPROCESS_FILE", "REPORT_METRICS", "SEGMENTS",
    "STALE_TMP_SECONDS", "SchemaEncoder", "TARGET", "TMP_PREFIX", "TRASH_PREFIX", "TrainConfig",
    "TrainResult", "XGBoostFamily", "activate", "active_or_train", "active_version",
    "comparison_table", "cross_fitted_platt", "data_fingerprint", "fingerprint", "fit_platt",
    "fold_ids", "jsonable", "library_versions", "list_versions", "load_active", "load_oof",
    "load_version", "make_preprocessor", "onehot_feature_map", "progress_text",
    "segment_metrics", "train",
]
