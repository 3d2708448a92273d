"""Metrics and curve data for churn probabilities.

Every function takes ``y`` (0/1 outcomes, 1 = churned) and ``p`` (predicted P(churn), 0..1) as
array-likes of the same length and returns plain floats or dicts of lists, so results go straight
into JSON (``metadata.json`` of a model version) and into the model report page.

Definitions (the ones the tests pin):

- ROC-AUC: area under the ROC curve (ties counted half), NaN when only one class is present.
- PR-AUC: average precision (step-wise area under the precision-recall curve, as in
  scikit-learn's ``average_precision_score``), NaN when there is no churner.
- Brier: mean of (p - y)^2. Log loss: mean of -[y log p + (1 - y) log(1 - p)], p clipped to
  [1e-15, 1 - 1e-15].
- Top fraction f (10% or 20%): the ceil(f × n) customers with the highest p; ties broken by
  position (a stable sort), so the result is deterministic. precision@f = churn rate in that
  group; lift@f = precision@f / overall churn rate.
- At a decision threshold t: customers with p >= t are flagged; recall = flagged churners /
  churners, precision = flagged churners / flagged (0.0 when nobody is flagged, as scikit-learn).
- ECE (expected calibration error): 10 equal-width bins of p over [0, 1] (bin i holds
  i/10 <= p < (i+1)/10; p == 1 goes to the last bin); ECE = sum over bins of
  (bin count / n) × |mean p in the bin - churn rate in the bin|. In probability units (0..1).
"""
from __future__ import annotations

import math

import numpy as np

#: metric name -> True when higher is better (the selection metrics `churn.models` accepts).
HIGHER_IS_BETTER: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "brier": False,
    "log_loss": False,
    "lift_at_10": True,
    "lift_at_20": True,
    "precision_at_10": True,
    "precision_at_20": True,
    "recall_at_threshold": True,
    "precision_at_threshold": True,
    "ece": False,
}

#: metric name -> label for tables and charts.
LABELS: dict[str, str] = {
    "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score", "log_loss": "Log loss",
    "lift_at_10": "Lift in top 10%", "lift_at_20": "Lift in top 20%",
    "precision_at_10": "Precision in top 10%", "precision_at_20": "Precision in top 20%",
    "recall_at_threshold": "Recall at threshold",
    "precision_at_threshold": "Precision at threshold",
    "ece": "Expected calibration error",
}

LOG_LOSS_EPS = 1e-15
ECE_BINS = 10


def _arrays(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y has {y.size} values but p has {p.size}; "
                         "pass one probability per outcome.")
    return y, p


def roc_auc(y, p) -> float:
    """Area under the ROC curve (0..1); NaN when y holds a single class."""
    y, p = _arrays(y, p)
    if y.size == 0 or y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def pr_auc(y, p) -> float:
    """Average precision (0..1), the area under the precision-recall curve; NaN without churners."""
    y, p = _arrays(y, p)
    if y.size == 0 or y.sum() == 0:
        return float("nan")
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, p))


def brier(y, p) -> float:
    """Mean squared difference between probability and outcome (0..1, lower is better)."""
    y, p = _arrays(y, p)
    return float(np.mean((p - y) ** 2)) if y.size else float("nan")


def log_loss(y, p) -> float:
    """Mean negative log-likelihood in nats (lower is better); p clipped to [1e-15, 1 - 1e-15]."""
    y, p = _arrays(y, p)
    if not y.size:
        return float("nan")
    q = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def top_mask(p, fraction: float) -> np.ndarray:
    """Boolean mask of the ceil(fraction × n) highest probabilities (ties: earlier rows first)."""
    p = np.asarray(p, dtype=float).ravel()
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction={fraction!r} must be in (0, 1]; e.g. 0.1 for the top 10%.")
    k = int(math.ceil(round(fraction * p.size, 9)))
    order = np.argsort(-p, kind="stable")
    mask = np.zeros(p.size, dtype=bool)
    mask[order[:k]] = True
    return mask


def precision_at_top(y, p, fraction: float) -> float:
    """Churn rate among the top `fraction` of customers by predicted risk (0..1)."""
    y, p = _arrays(y, p)
    if not y.size:
        return float("nan")
    return float(y[top_mask(p, fraction)].mean())


def lift_at_top(y, p, fraction: float) -> float:
    """precision_at_top / overall churn rate (1.0 = no better than random); NaN without churners."""
    y, p = _arrays(y, p)
    rate = y.mean() if y.size else 0.0
    if rate == 0:
        return float("nan")
    return precision_at_top(y, p, fraction) / float(rate)


def recall_at_threshold(y, p, threshold: float = 0.5) -> float:
    """Share of churners with p >= threshold (0..1); NaN without churners."""
    y, p = _arrays(y, p)
    pos = y.sum()
    if pos == 0:
        return float("nan")
    return float(((p >= threshold) & (y == 1)).sum() / pos)


def precision_at_threshold(y, p, threshold: float = 0.5) -> float:
    """Share of churners among customers with p >= threshold (0..1); 0.0 when nobody is flagged."""
    y, p = _arrays(y, p)
    flagged = p >= threshold
    if not flagged.any():
        return 0.0
    return float(y[flagged].mean())


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    return np.clip(np.floor(p * bins).astype(int), 0, bins - 1)


def expected_calibration_error(y, p, bins: int = ECE_BINS) -> float:
    """ECE over `bins` equal-width probability bins (0..1, lower is better); see the module doc."""
    y, p = _arrays(y, p)
    if not y.size:
        return float("nan")
    idx = _bin_index(p, bins)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    sum_y = np.bincount(idx, weights=y, minlength=bins)
    return float(np.abs(sum_p - sum_y).sum() / y.size)


def summary(y, p, threshold: float = 0.5) -> dict[str, float]:
    """Every metric in `HIGHER_IS_BETTER` plus ``n`` (rows) and ``churn_rate`` (0..1)."""
    y, p = _arrays(y, p)
    return {
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "brier": brier(y, p),
        "log_loss": log_loss(y, p),
        "lift_at_10": lift_at_top(y, p, 0.10),
        "lift_at_20": lift_at_top(y, p, 0.20),
        "precision_at_10": precision_at_top(y, p, 0.10),
        "precision_at_20": precision_at_top(y, p, 0.20),
        "recall_at_threshold": recall_at_threshold(y, p, threshold),
        "precision_at_threshold": precision_at_threshold(y, p, threshold),
        "ece": expected_calibration_error(y, p),
        "n": int(y.size),
        "churn_rate": float(y.mean()) if y.size else float("nan"),
    }


# --- curve data (for the model report page) ------------------------------------------------------
def _thin(n: int, max_points: int) -> np.ndarray:
    """Indices of at most max_points evenly spread over 0..n-1, always keeping both ends."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))


def roc_points(y, p, max_points: int = 101) -> dict[str, list[float]]:
    """ROC curve: {"fpr", "tpr"} (0..1), thinned to at most max_points points."""
    y, p = _arrays(y, p)
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    keep = _thin(fpr.size, max_points)
    return {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()}


def pr_points(y, p, max_points: int = 101) -> dict[str, list[float]]:
    """Precision-recall curve: {"recall", "precision"} (0..1), recall increasing, thinned."""
    y, p = _arrays(y, p)
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, p)
    precision, recall = precision[::-1], recall[::-1]
    keep = _thin(recall.size, max_points)
    return {"recall": recall[keep].tolist(), "precision": precision[keep].tolist()}


def reliability_points(y, p, bins: int = ECE_BINS) -> dict[str, list]:
    """Reliability diagram over equal-width bins: {"bin_low", "bin_high", "count",
    "mean_predicted", "churn_rate"}; empty bins are left out."""
    y, p = _arrays(y, p)
    idx = _bin_index(p, bins)
    count = np.bincount(idx, minlength=bins)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    sum_y = np.bincount(idx, weights=y, minlength=bins)
    nz = count > 0
    lows = np.arange(bins) / bins
    return {
        "bin_low": lows[nz].tolist(),
        "bin_high": (lows[nz] + 1 / bins).tolist(),
        "count": count[nz].astype(int).tolist(),
        "mean_predicted": (sum_p[nz] / count[nz]).tolist(),
        "churn_rate": (sum_y[nz] / count[nz]).tolist(),
    }


def gains_points(y, p, max_points: int = 101) -> dict[str, list[float]]:
    """Cumulative gains: {"share_customers", "share_churners"} (0..1) contacting customers in
    decreasing order of p; starts at (0, 0), ends at (1, 1)."""
    y, p = _arrays(y, p)
    order = np.argsort(-p, kind="stable")
    caught = np.concatenate([[0.0], np.cumsum(y[order])])
    total = caught[-1] if caught[-1] > 0 else 1.0
    share_c = np.arange(y.size + 1) / max(y.size, 1)
    keep = _thin(y.size + 1, max_points)
    return {"share_customers": share_c[keep].tolist(),
            "share_churners": (caught[keep] / total).tolist()}


def curves(y, p, max_points: int = 101) -> dict[str, dict]:
    """All four curves: {"roc", "pr", "reliability", "gains"} (see the functions above)."""
    y, p = _arrays(y, p)
    if y.size == 0 or y.min() == y.max():
        return {"roc": {}, "pr": {}, "reliability": reliability_points(y, p), "gains": {}}
    return {"roc": roc_points(y, p, max_points), "pr": pr_points(y, p, max_points),
            "reliability": reliability_points(y, p), "gains": gains_points(y, p, max_points)}


# --- decisions at a threshold, and what they cost (for the model report page) -----------------
#: The decision thresholds of the model report's slider and cost curve: 0.00, 0.01, ..., 1.00.
THRESHOLD_GRID: tuple[float, ...] = tuple(round(i / 100, 2) for i in range(101))


def confusion_counts(y, p, threshold: float = 0.5) -> dict[str, int]:
    """Customers in each cell of the confusion matrix at a decision threshold (0..1).

    Customers with p >= threshold are flagged. Returns {"tp": flagged churners, "fp": false
    alarms (flagged, stayed), "fn": missed churners (not flagged, churned), "tn": correctly
    left alone}; the four counts add up to len(y).
    """
    y, p = _arrays(y, p)
    t = float(threshold)
    if not 0 <= t <= 1:
        raise ValueError(f"threshold={threshold!r} must be a probability from 0 to 1.")
    flagged = p >= t
    churned = y == 1
    return {"tp": int((flagged & churned).sum()), "fp": int((flagged & ~churned).sum()),
            "fn": int((~flagged & churned).sum()), "tn": int((~flagged & ~churned).sum())}


def _dollars(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name}={value!r} must be a dollar amount of 0 or more.")
    return v


def cost_curve(y, p, offer_cost: float, customer_value: float,
               thresholds=None) -> dict[str, list]:
    """The dollar cost of the model's mistakes at every decision threshold.

    y: 0/1 outcomes; p: P(churn) 0..1. offer_cost: dollars spent on a retention offer sent to a
    customer (a *false alarm* wastes it on someone who would have stayed). customer_value:
    dollars lost when a churner is not contacted (a *missed churner*). thresholds: decision
    thresholds 0..1 (default ``THRESHOLD_GRID``); customers with p >= threshold get an offer.

    Only mistakes are priced: false_alarm_cost = fp × offer_cost, missed_cost = fn ×
    customer_value, total_cost = their sum (an offer to a real churner is counted as money well
    spent). For calibrated probabilities the total is lowest near offer_cost / (offer_cost +
    customer_value), where a customer's expected loss p × customer_value equals the offer cost
    of a needless contact (1 − p) × offer_cost.

    Returns {"threshold", "flagged", "tp", "fp", "fn", "tn", "false_alarm_cost", "missed_cost",
    "total_cost"}: one list entry per threshold (counts of customers; costs in dollars).
    """
    y, p = _arrays(y, p)
    c = _dollars("offer_cost", offer_cost)
    v = _dollars("customer_value", customer_value)
    t = np.asarray(THRESHOLD_GRID if thresholds is None else thresholds, dtype=float).ravel()
    if t.size == 0 or not np.all((t >= 0) & (t <= 1)):
        raise ValueError(f"thresholds must be probabilities from 0 to 1, got {t.tolist()[:5]}.")
    pos = np.sort(p[y == 1])
    neg = np.sort(p[y != 1])
    # customers with p >= t: those not strictly below t
    tp = pos.size - np.searchsorted(pos, t, side="left")
    fp = neg.size - np.searchsorted(neg, t, side="left")
    fn = pos.size - tp
    tn = neg.size - fp
    false_alarm = fp * c
    missed = fn * v
    return {"threshold": t.tolist(), "flagged": (tp + fp).astype(int).tolist(),
            "tp": tp.astype(int).tolist(), "fp": fp.astype(int).tolist(),
            "fn": fn.astype(int).tolist(), "tn": tn.astype(int).tolist(),
            "false_alarm_cost": false_alarm.astype(float).tolist(),
            "missed_cost": missed.astype(float).tolist(),
            "total_cost": (false_alarm + missed).astype(float).tolist()}


def best_threshold(curve: dict[str, list]) -> dict[str, float]:
    """The entry of a ``cost_curve`` with the lowest total cost (ties: the lowest threshold),
    as {key: value} for every key of the curve."""
    total = np.asarray(curve.get("total_cost", []), dtype=float)
    if total.size == 0:
        raise ValueError("curve has no thresholds; pass the result of cost_curve(...).")
    i = int(np.argmin(total))
    return {k: vals[i] for k, vals in curve.items()}
