"""Light views of a population's explanation for the "Why customers churn" charts.

The page explains a repeatable sample of up to 10,000 customers (`churn.explain.
global_explanation`); drawing every (customer, feature) point of it costs the browser seconds on
each visit. These functions pick a smaller, representative set of the explained customers and
lay their points out as plain numbers, so a chart needs no per-point text:

- `stratified_positions`: a repeatable sample stratified by predicted churn probability (each
  risk band of the explained customers keeps its share, so the sample's risk mix is the
  explained customers' mix, not a lucky or unlucky draw);
- `beeswarm_points`: one row per (sampled customer, feature) with the effect in percentage
  points, a colour position (0..1) and the value as a number (numeric features) or as its
  category (categorical features: the chart draws one trace per category, naming it once);
- `dependence_positions`: the customers of the dependence chart, drawn the same way.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn import explain as E
from churn import schema

#: Risk bands of `stratified_positions`: deciles of predicted churn probability.
RISK_BANDS = 10
#: Customers in the beeswarm (19 points each): 500 customers, 9,500 points.
BEESWARM_CUSTOMERS = 500
#: Customers in the dependence chart.
DEPENDENCE_CUSTOMERS = 1_500
#: Feature kinds drawn as numbers (hover shows the value from a numeric array).
NUMERIC_KINDS = ("integer", "money")


def _whole(name: str, value, minimum: int = 1) -> int:
    if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
            or value < minimum):
        raise ValueError(f"{name}={value!r} must be a whole number of at least {minimum}")
    return int(value)


def stratified_positions(prob, size: int, seed: int = 0, bands: int = RISK_BANDS) -> np.ndarray:
    """Row positions (sorted, 0-based) of a repeatable sample of ``size`` customers, stratified
    by predicted churn probability.

    Inputs: prob, each explained customer's P(churn) (0..1, in row order); size, customers
    wanted; seed, the random seed (the same seed gives the same sample); bands, risk bands.
    The customers are ranked by probability (ties by position) and cut into ``bands`` bands of
    equal size (±1); each band gives ``size × band size / n`` customers (largest remainders
    round up, lower bands first on ties), drawn at random within the band. Every position when
    ``size`` is at least the number of customers.
    """
    size = _whole("size", size)
    bands = _whole("bands", bands)
    p = np.asarray(prob, dtype=float).ravel()
    n = p.size
    if size >= n:
        return np.arange(n)
    ranked = np.argsort(p, kind="stable")
    groups = np.array_split(ranked, min(bands, n))
    share = np.array([len(g) for g in groups], dtype=float) * size / n
    take = np.floor(share).astype(int)
    extra = size - int(take.sum())
    if extra:
        order = np.argsort(-(share - take), kind="stable")
        take[order[:extra]] += 1
    rng = np.random.default_rng(seed)
    picked = [rng.choice(g, size=k, replace=False) for g, k in zip(groups, take) if k]
    return np.sort(np.concatenate(picked)) if picked else np.arange(0)


def beeswarm_points(expl: E.Explanation, customers: int = BEESWARM_CUSTOMERS,
                    seed: int = 0) -> pd.DataFrame:
    """Points of the beeswarm chart: one row per (customer, feature) of a risk-stratified sample
    of ``customers`` of the explained customers (`stratified_positions`).

    Output columns, rows sorted by feature rank then customer: feature, label (short label),
    order (0 = the most important feature by mean |pp| over ALL explained customers), pp (the
    feature's effect on that customer's churn probability, percentage points, float32), jitter
    (seeded, −0.35..0.35, to spread the row), colour (0..1: numeric features by rank of value,
    categories by their order in the schema), number (the value of a numeric feature, float32;
    a blank TotalCharges is 0 dollars billed, as the model sees it; NaN for categorical ones),
    category (the display text of a categorical or yes/no feature's value, "" for numeric ones).
    """
    customers = _whole("customers", customers)
    pos = stratified_positions(expl.prob, customers, seed)
    sub = expl.take(pos)
    order = {f: r for r, f in enumerate(E.global_importance(expl)["feature"])}
    rng = np.random.default_rng(seed)
    parts = []
    for f in sorted(schema.FEATURES, key=order.get):
        vals = sub.values[f].reset_index(drop=True)
        numeric = schema.BY_NAME[f].kind in NUMERIC_KINDS
        number = (pd.to_numeric(vals, errors="coerce").fillna(0.0).to_numpy(np.float32)
                  if numeric else np.full(len(vals), np.nan, dtype=np.float32))
        parts.append(pd.DataFrame({
            "feature": f, "label": E.short_label(f), "order": order[f],
            "pp": sub.pp[f].to_numpy(dtype=np.float32),
            "jitter": rng.uniform(-0.35, 0.35, size=len(vals)).astype(np.float32),
            "colour": E._colour(f, vals).astype(np.float32),
            "number": number,
            "category": "" if numeric else E._display_vec(f, vals),
        }))
    cols = ["feature", "label", "order", "pp", "jitter", "colour", "number", "category"]
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols))[cols]


def dependence_positions(expl: E.Explanation, customers: int = DEPENDENCE_CUSTOMERS,
                         seed: int = 0) -> np.ndarray:
    """Positions of the customers drawn in the dependence chart (`stratified_positions` of
    ``customers``; every explained customer when there are no more)."""
    return stratified_positions(expl.prob, _whole("customers", customers), seed)
