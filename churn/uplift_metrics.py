"""How well a ranking finds the customers an offer really helps: Qini, AUUC and uplift@k.

Written here rather than taken from causalml or scikit-uplift: causalml would pull a second
boosting library, numba and a pinned scikit-learn into the environment for four short formulas
(see the README's uplift section), and these functions are checked against a brute-force
computation in ``tests/test_uplift.py``.

Inputs, for every function: ``churned`` (1 = the customer left within the outcome window, 0 =
stayed), ``treated`` (1 = the offer was made, 0 = randomised control) and ``score`` (the ranking:
higher = target first, e.g. the predicted drop in churn probability). The *good* outcome is
staying, so every figure counts **extra customers kept** (a drop in churn), never extra churners.

Notation for the customers ranked in the top ``k`` by score: ``Nt(k)``/``Nc(k)`` treated/control
customers, ``Ct(k)``/``Cc(k)`` of them churned, ``N`` all customers, ``Nt``/``Nc`` all treated/
control customers.

- **Qini curve** ``Q(k) = Cc(k) × Nt(k) / Nc(k) − Ct(k)``: extra customers kept among the treated
  in the top k, compared with the same number of control customers (0 while ``Nc(k) = 0``).
- **Uplift curve** ``U(k) = (Cc(k)/Nc(k) − Ct(k)/Nt(k)) × k``: extra customers kept if all top k
  customers were offered (0 while either group is empty).
- Both are evaluated where the score changes (customers with tied scores enter together, so the
  curve does not depend on the order of ties), plus the point (0, 0).
- **Qini coefficient**: area between the Qini curve and the random-targeting line (the straight line
  from (0, 0) to (N, Q(N))), with both axes as shares: x = k / N, y = Q(k) / Nt. Trapezoid rule.
  0 = no better than random; it can be negative. Comparable between rankings of the same data.
- **AUUC**: area under the uplift curve with x = k / N and y = U(k) / N (extra customers kept per
  customer), trapezoid rule. Random targeting gives ``ATE / 2`` where ATE = U(N) / N.
- **uplift@k**: observed churn rate of control minus that of treated among the first
  ``ceil(share × N)`` customers by score (stable order for ties); NaN when either group is empty
  there. In churn-probability units (0.05 = 5 points).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _arrays(churned, treated, score):
    y = np.asarray(churned, dtype=float).reshape(-1)
    w = np.asarray(treated, dtype=float).reshape(-1)
    s = np.asarray(score, dtype=float).reshape(-1)
    if not (len(y) == len(w) == len(s)):
        raise ValueError(f"churned, treated and score must have one value per customer; got "
                         f"{len(y)}, {len(w)} and {len(s)} values.")
    if np.isnan(y).any() or not np.isin(y, (0, 1)).all():
        raise ValueError("churned must be 0 or 1 for every customer (no blanks); leave out the "
                         "customers whose outcome is not known yet.")
    if not np.isin(w, (0, 1)).all():
        raise ValueError("treated must be 1 (offered) or 0 (control) for every customer.")
    if np.isnan(s).any():
        raise ValueError("score has missing values (NaN); score every customer first.")
    return y, w, s


def _cumulative(churned, treated, score):
    """Cumulative counts at the end of each group of tied scores, best score first.

    Returns (k, nt, nc, ct, cc) arrays starting with the point k = 0.
    """
    y, w, s = _arrays(churned, treated, score)
    order = np.argsort(-s, kind="mergesort")
    y, w, s = y[order], w[order], s[order]
    nt = np.cumsum(w)
    nc = np.cumsum(1.0 - w)
    ct = np.cumsum(y * w)
    cc = np.cumsum(y * (1.0 - w))
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1] if len(s) else np.array([], int)
    k = ends + 1.0
    zero = np.zeros(1)
    return (np.r_[zero, k], np.r_[zero, nt[ends]], np.r_[zero, nc[ends]],
            np.r_[zero, ct[ends]], np.r_[zero, cc[ends]])


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def qini_curve(churned, treated, score) -> pd.DataFrame:
    """The Qini curve: DataFrame[targeted (customers), share (0..1), qini (extra customers kept
    among the treated)] from (0, 0) to all customers; formula in the module docstring."""
    k, nt, nc, ct, cc = _cumulative(churned, treated, score)
    q = _div(cc * nt, nc) - ct
    q = np.where(nc > 0, q, 0.0)
    n = k[-1] if len(k) else 0.0
    return pd.DataFrame({"targeted": k.astype(np.int64), "share": _div(k, np.full_like(k, n)),
                         "qini": q})


def uplift_curve(churned, treated, score) -> pd.DataFrame:
    """The uplift curve: DataFrame[targeted, share, uplift (extra customers kept if all the top
    customers were offered)]; formula in the module docstring."""
    k, nt, nc, ct, cc = _cumulative(churned, treated, score)
    u = (_div(cc, nc) - _div(ct, nt)) * k
    u = np.where((nt > 0) & (nc > 0), u, 0.0)
    n = k[-1] if len(k) else 0.0
    return pd.DataFrame({"targeted": k.astype(np.int64), "share": _div(k, np.full_like(k, n)),
                         "uplift": u})


def _trapezoid(x, y) -> float:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0)) if len(x) > 1 else 0.0


def qini_coefficient(churned, treated, score) -> float:
    """Area between the Qini curve and random targeting, axes as shares (see module docstring).

    Positive: the ranking puts the customers the offer helps first. Units: (extra customers kept
    per treated customer) × (share of customers targeted).
    """
    curve = qini_curve(churned, treated, score)
    nt = float(np.sum(np.asarray(treated, dtype=float)))
    if nt == 0 or len(curve) < 2:
        return 0.0
    x = curve["share"].to_numpy()
    y = curve["qini"].to_numpy() / nt
    random_area = y[-1] / 2.0  # the straight line from (0, 0) to (1, y[-1])
    return _trapezoid(x, y) - random_area


def auuc(churned, treated, score) -> float:
    """Area under the uplift curve, axes as shares: mean extra customers kept per customer over
    all targeting depths (see module docstring). Random targeting scores ``ATE / 2``."""
    curve = uplift_curve(churned, treated, score)
    n = float(curve["targeted"].iloc[-1]) if len(curve) else 0.0
    if n == 0:
        return 0.0
    return _trapezoid(curve["share"].to_numpy(), curve["uplift"].to_numpy() / n)


def uplift_at_k(churned, treated, score, share: float = 0.1) -> float:
    """Control churn rate minus treated churn rate among the top ``ceil(share × N)`` customers by
    score (ties in input order); NaN when either group has no customer there."""
    if not 0.0 < float(share) <= 1.0:
        raise ValueError(f"share={share!r} must be above 0 and at most 1 (e.g. 0.1 for the top 10%).")
    y, w, s = _arrays(churned, treated, score)
    top = np.argsort(-s, kind="mergesort")[:int(math.ceil(share * len(s) - 1e-9))]
    yt, wt = y[top], w[top]
    nt, nc = wt.sum(), (1 - wt).sum()
    if nt == 0 or nc == 0:
        return float("nan")
    return float((yt * (1 - wt)).sum() / nc - (yt * wt).sum() / nt)


def evaluate(churned, treated, score, shares=(0.1, 0.2)) -> dict:
    """{qini, auuc, uplift_at_10, uplift_at_20, ...} of one ranking (keys from ``shares``)."""
    out = {"qini": qini_coefficient(churned, treated, score),
           "auuc": auuc(churned, treated, score)}
    for sh in shares:
        out[f"uplift_at_{int(round(sh * 100))}"] = uplift_at_k(churned, treated, score, sh)
    return out
