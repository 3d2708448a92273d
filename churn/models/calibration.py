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


def cross_fitted_platt(margin: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Calibrated OOF probabilities: fold k mapped by a Platt fit on the other folds' margins."""
    out = np.empty(len(margin))
    for k in np.unique(folds):
        te = folds == k
        a, b = fit_platt(margin[~te], y[~te])
        out[te] = _sigmoid(a * margin[te] + b)
    return out
