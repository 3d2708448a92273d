"""Platt scaling: the two-parameter map from a family's raw margin to a calibrated probability.

Every family's margin is in log-odds; P(churn) = sigmoid(a × margin + b) with (a, b) fitted by
maximum likelihood. `cross_fitted_platt` gives out-of-fold probabilities whose map never saw the
row's own label (the honest figures cross-validation reports).
"""
from __future__ import annotations

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(z)


def _logit(p: np.ndarray) -> np.ndarray:
    from scipy.special import logit

    return logit(p)


def fit_platt(margin, y, max_iter: int = 100) -> tuple[float, float]:
    """Platt scaling: (a, b) maximising the likelihood of y under sigmoid(a × margin + b).

    margin: raw log-odds scores (one per row); y: 0/1 labels of the same rows, both classes
    present. Returns (a, b), floats: the slope and intercept of the calibrated log-odds.
    scikit-learn's `LogisticRegression` on the one column ``margin`` with plain 0/1 targets,
    solved by Newton's method (``newton-cholesky``) to a 1e-12 tolerance; ``C=1e9`` is a ridge of
    1e-9 on ``a`` that only matters when the classes are perfectly separated. It replaced a
    hand-written Newton solver whose (a, b) it matches to 1e-9 (tests/test_models.py).
    max_iter: Newton iterations at most (a handful are used in practice).
    """
    from sklearn.linear_model import LogisticRegression

    m = np.asarray(margin, dtype=float).reshape(-1, 1)
    fit = LogisticRegression(C=1e9, solver="newton-cholesky", tol=1e-12, max_iter=max_iter)
    fit.fit(m, np.asarray(y, dtype=int))
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def cross_fitted_platt(margin: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Calibrated OOF probabilities: fold k mapped by a Platt fit on the other folds' margins."""
    out = np.empty(len(margin))
    for k in np.unique(folds):
        te = folds == k
        a, b = fit_platt(margin[~te], y[~te])
        out[te] = _sigmoid(a * margin[te] + b)
    return out
