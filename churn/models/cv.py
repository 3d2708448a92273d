"""Honest cross-validation of one family: stratified folds, the grid, cross-fitted calibration.

`_evaluate_family` fits every grid point on each fold's training part only (boosting rounds
share one fit, read back with ``staged_margin``), calibrates the out-of-fold margins with
`cross_fitted_platt`, and keeps the grid point with the best mean fold value.
"""
from __future__ import annotations

import json
import time
from typing import Callable

import numpy as np
import pandas as pd

from churn import metrics as M
from churn import schema
from churn.models.calibration import cross_fitted_platt
from churn.models.config import TrainConfig
from churn.models.family import FAMILIES, Family

#: Columns the per-segment metrics are broken down by.
SEGMENTS = schema.METRIC_SEGMENTS


def fold_ids(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold number (0..folds-1) of every row, shuffled with ``seed``."""
    from sklearn.model_selection import StratifiedKFold

    out = np.empty(len(y), dtype=int)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, te) in enumerate(skf.split(np.zeros(len(y)), y)):
        out[te] = k
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

