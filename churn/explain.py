"""Explanations in business units: why a customer's churn probability is what it is.

A `ChurnModel` explains itself in calibrated log-odds: ``contributions(df)`` returns a base
log-odds (the average customer) and one additive contribution per schema feature, with
``base_logit + row sum == logit(P(churn))`` exactly. Business users read changes in churn
probability in **percentage points** (pp), so this module converts the log-odds contributions
faithfully, then builds everything the pages and the batch scorer show from them: global
importance and dependence data (the beeswarm's points: `churn.global_explain`), churn rates by
segment, per-customer driver tables with plain-language sentences, and waterfall rows.

The conversion (`to_percentage_points`): with ``p0 = sigmoid(base_logit)`` and
``p = sigmoid(logit)`` the customer's probability moves by ``p - p0``; each feature gets the share
of that move that its log-odds contribution has of the total log-odds move:

    pp_i = 100 × phi_i × (p − p0) / (logit − base_logit)

(when ``logit ≈ base_logit`` the ratio is its limit, the slope ``p0 (1 − p0)``). The allocation
keeps the sign and the ranking of the log-odds contributions and adds up exactly:
``100 × p0 + Σ pp_i == 100 × p``. `UNIT_NOTE` states this for every chart.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from churn import schema

UNIT_NOTE = (
    "Effects are in percentage points (pp) of churn probability: positive raises the risk, "
    "negative lowers it. They start from the model's baseline (the probability of a customer "
    "with the average score, which need not equal the churn rate) and add up to "
    "the customer's probability exactly; each feature gets its share of the model's log-odds "
    "change (proportional allocation)."
)

#: Below this log-odds change the probability change is allocated with the slope p0 (1 − p0).
_TINY_LOGIT = 1e-9

#: Below this many customers `top_drivers` writes each sentence directly instead of once per
#: distinct value (the grouping's pandas set-up costs more than it saves for one customer).
_FEW_ROWS = 16

#: Default number of customers explained for the global charts (all of them up to this many).
DEFAULT_SAMPLE_SIZE = 10_000

TENURE_BANDS = ((0, 6), (7, 12), (13, 24), (25, 48), (49, 72), (73, None))
CHARGE_BANDS = 5  # quantile bands (quintiles) for the money columns

BASE_LABEL = "Model baseline"
OTHER_LABEL = "All other features"
FINAL_LABEL = "This customer"


# --------------------------------------------------------------------------------------------
# The explanation object
# --------------------------------------------------------------------------------------------
@dataclass
class Explanation:
    """Additive explanation of a set of customers.

    base_prob: P(churn) of the average customer (0..1), ``sigmoid(base_logit)``.
    base_logit: the model's base log-odds.
    prob: P(churn) per customer (0..1), numpy array, ``sigmoid(base_logit + logit.sum(axis=1))``.
    pp: DataFrame[schema.FEATURES], percentage points per feature;
        ``100 * base_prob + pp.sum(axis=1) == 100 * prob``.
    logit: DataFrame[schema.FEATURES], log-odds contributions (as the model gave them).
    values: the customers' canonical feature values (DataFrame[schema.FEATURES]), same index.
    ids: customerIDs (numpy array of str) when the input had them, else None.
    """

    base_prob: float
    prob: np.ndarray
    pp: pd.DataFrame
    logit: pd.DataFrame
    base_logit: float
    values: pd.DataFrame
    ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pp)

    def take(self, positions) -> "Explanation":
        """The explanation of the customers at these row positions (0-based)."""
        pos = np.asarray(positions, dtype=int)
        return Explanation(
            base_prob=self.base_prob, prob=self.prob[pos], pp=self.pp.iloc[pos],
            logit=self.logit.iloc[pos], base_logit=self.base_logit,
            values=self.values.iloc[pos], ids=None if self.ids is None else self.ids[pos])


def to_percentage_points(base_logit: float, logit_contrib: pd.DataFrame | np.ndarray):
    """Convert log-odds contributions into percentage points of churn probability.

    Inputs: the base log-odds (float) and an (n customers × m features) table of log-odds
    contributions. Returns ``(base_prob, prob, pp)``: the average customer's probability (0..1),
    each customer's probability (0..1, numpy array) and the contributions in percentage points
    (same shape and, for a DataFrame, the same index and columns). See the module docstring for
    the allocation rule.
    """
    phi = np.ascontiguousarray(logit_contrib, dtype=float)  # one summation order, always
    if phi.ndim != 2:
        raise ValueError(f"logit_contrib has {phi.ndim} dimension(s); expected a 2-D table "
                         "(customers × features)")
    base_logit = float(base_logit)
    if not math.isfinite(base_logit):
        raise ValueError(f"base_logit={base_logit!r} is not a finite number; the model's "
                         "contributions are broken")
    total = phi.sum(axis=1)
    p0 = float(expit(base_logit))
    p = expit(base_logit + total)
    tiny = np.abs(total) < _TINY_LOGIT
    ratio = np.where(tiny, p0 * (1.0 - p0), (p - p0) / np.where(tiny, 1.0, total))
    pp = 100.0 * phi * ratio[:, None]
    if isinstance(logit_contrib, pd.DataFrame):
        pp = pd.DataFrame(pp, index=logit_contrib.index, columns=logit_contrib.columns)
    return p0, p, pp


def explain(model, df: pd.DataFrame) -> Explanation:
    """Explain every customer of a canonical frame with a `ChurnModel`.

    Inputs: ``model`` with ``contributions(df) -> (base_logit, DataFrame[FEATURES])``; ``df`` a
    canonical frame (customerID optional). Output: `Explanation` with the same index as ``df``.
    Probabilities come from the contributions (``sigmoid(base + row sum)``), which the model
    contract makes identical to ``model.predict_proba(df)``; one model call instead of two.
    """
    missing = [c for c in schema.FEATURES if c not in df.columns]
    if missing:
        raise ValueError(f"explain() needs a canonical frame; missing column(s) {missing}")
    base_logit, contrib = model.contributions(df)
    contrib = pd.DataFrame(contrib)
    if list(contrib.columns) != schema.FEATURES:
        contrib = contrib.reindex(columns=schema.FEATURES, fill_value=0.0)
    contrib.index = df.index
    base_prob, prob, pp = to_percentage_points(base_logit, contrib)
    ids = schema.id_texts(df) if schema.ID in df.columns else None
    return Explanation(base_prob=base_prob, prob=np.asarray(prob), pp=pp, logit=contrib,
                       base_logit=float(base_logit), values=_feature_values(df), ids=ids)


def _feature_values(df: pd.DataFrame) -> pd.DataFrame:
    """``df[schema.FEATURES].copy()``; for one customer built from `schema.column_arrays` (the
    same values and dtypes, without pandas' selection and copy)."""
    arrays = schema.column_arrays(df)
    if arrays is None:
        return df[schema.FEATURES].copy()
    return pd.DataFrame({c: arrays[c].copy() for c in schema.FEATURES}, index=df.index,
                        copy=False)


# --------------------------------------------------------------------------------------------
# Value display and sentences
# --------------------------------------------------------------------------------------------
_UNIT_RE = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")


def _label_parts(feature: str) -> tuple[str, str]:
    """("Tenure", "months") from "Tenure (months)"; ("Contract", "") when there is no unit."""
    lab = schema.label(feature)
    m = _UNIT_RE.match(lab)
    return (m.group(1), m.group(2)) if m else (lab, "")


def short_label(feature: str) -> str:
    """The schema label without its unit: "Tenure" for "Tenure (months)"."""
    return _label_parts(feature)[0]


def unit(feature: str) -> str:
    """The unit in the schema label: "months" for "Tenure (months)"; "" when there is none."""
    return _label_parts(feature)[1]


def _is_missing(value) -> bool:
    try:
        return value is None or (isinstance(value, float) and math.isnan(value)) or bool(
            pd.isna(value))
    except (TypeError, ValueError):
        return False


def display_value(feature: str, value) -> str:
    """A value as a business user reads it: "Month-to-month", "Yes", "3 months", "$89.10".

    flag01 columns show No/Yes; integer columns carry their unit ("1 month", "24 months");
    money shows dollars with cents; a blank TotalCharges shows "not yet billed".
    """
    col = schema.BY_NAME.get(feature)
    kind = col.kind if col else "category"
    if _is_missing(value):
        return "not yet billed" if kind == "money" else "missing"
    if kind == "flag01":
        return "Yes" if int(value) == 1 else "No"
    if kind == "integer":
        v = int(value)
        unit = _label_parts(feature)[1]
        if unit:
            unit = unit[:-1] if (v == 1 and unit.endswith("s")) else unit
            return f"{v} {unit}"
        return str(v)
    if kind == "money":
        return f"${float(value):,.2f}"
    return str(value)


def _subject(feature: str, value) -> str:
    """The start of a driver sentence: what the customer has."""
    col = schema.BY_NAME.get(feature)
    kind = col.kind if col else "category"
    name = short_label(feature)
    if kind == "flag01":
        thing = name[0].lower() + name[1:]
        article = "an" if thing[:1] in "aeiou" else "a"
        return f"{'Being' if int(value) == 1 else 'Not being'} {article} {thing}"
    if kind == "money" and _is_missing(value):
        return "Not being billed yet"
    if kind in ("integer", "money"):
        return f"{name} of {display_value(feature, value)}"
    return f'{name} "{value}"'


def _tenths(pp):
    """pp in whole tenths of a point (half to even), the one rounding every sentence uses."""
    return np.rint(np.asarray(pp, dtype=float) * 10.0)


def _plural(feature: str, value) -> bool:
    """Whether the sentence's subject is plural ("Monthly charges of $89.10 lower ...")."""
    col = schema.BY_NAME.get(feature)
    return bool(col and col.kind == "money" and not _is_missing(value))


def _verb(pp: float, plural: bool = False) -> str:
    """The end of a driver sentence: how much the risk moves (pp rounded to 0.1)."""
    s = "" if plural else "s"
    pp = float(pp)
    r = float(_tenths(pp)) / 10.0 if math.isfinite(pp) else 0.0
    if r == 0.0:
        if pp == 0 or not math.isfinite(pp):
            return f"{'do' if plural else 'does'} not change the churn risk"
        return f"{'raise' if pp > 0 else 'lower'}{s} the churn risk by less than 0.1 points"
    return f"{'raise' if r > 0 else 'lower'}{s} the churn risk by {abs(r):.1f} points"


def driver_sentence(feature: str, value, pp: float) -> str:
    """One plain-language sentence for one driver.

    Inputs: a schema feature name, the customer's canonical value for it, and its contribution
    in percentage points. E.g. ``Contract "Month-to-month" raises the churn risk by 14.2 points``,
    ``Tenure of 3 months raises ...``, ``Monthly charges of $89.10 lowers ...``,
    ``Being a senior citizen raises ...``.
    """
    if feature not in schema.BY_NAME or not schema.BY_NAME[feature].is_feature:
        raise ValueError(f"driver_sentence: {feature!r} is not a feature of the schema "
                         f"(features: {', '.join(schema.FEATURES)})")
    return f"{_subject(feature, value)} {_verb(pp, _plural(feature, value))}"


def _subjects_vec(feature: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_subject` and `_plural` for many values of one feature, once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    phrases = np.array([_subject(feature, v) for v in uniques], dtype=object)
    plural = np.array([_plural(feature, v) for v in uniques], dtype=bool)
    return phrases[codes], plural[codes]


def _verbs_vec(pp: np.ndarray, plural: np.ndarray) -> np.ndarray:
    """`_verb` for many values, computed once per distinct (rounded value, plural)."""
    pp = np.asarray(pp, dtype=float)
    t = _tenths(pp)
    # The phrase depends on the rounded tenths, on the sign of values that round to 0, and on
    # whether the subject is plural: one integer key holds all three.
    sign0 = np.where((t == 0) & (pp != 0), np.sign(pp), 0.0) + 1.0  # 0, 1 or 2
    key = (t * 8 + sign0 * 2 + plural).astype(np.int64)
    codes, uniques = pd.factorize(key)
    reps = np.empty(len(uniques))
    reps[codes] = pp  # any member of a group gives that group's phrase
    rep_plural = np.zeros(len(uniques), dtype=bool)
    rep_plural[codes] = plural
    phrases = np.array([_verb(v, pl) for v, pl in zip(reps, rep_plural)], dtype=object)
    return phrases[codes]


# --------------------------------------------------------------------------------------------
# Per-customer drivers
# --------------------------------------------------------------------------------------------
def top_drivers(expl: Explanation, k: int = 3, direction: str = "up") -> pd.DataFrame:
    """The k strongest drivers of each customer, with a sentence each.

    direction: "up" (features that raise the risk, largest first), "down" (features that lower
    it, strongest first) or "abs" (largest |pp| either way). When a customer has fewer than k
    features in that direction the remaining slots are empty: driver "" / pp NaN / text "".
    Output: one row per customer (index of ``expl``) with columns driver_1..k (feature name),
    driver_1..k_pp (percentage points), driver_1..k_text (sentence). Vectorised: sentences are
    built once per distinct (feature, value) and per distinct rounded pp.
    """
    return pd.DataFrame(top_driver_columns(expl, k, direction), index=expl.pp.index)


def top_driver_columns(expl: Explanation, k: int = 3, direction: str = "up") -> dict:
    """`top_drivers`'s columns as {name: numpy array} in its column order, without the frame
    (`Engine.score_all` copies them into its own table)."""
    m = len(schema.FEATURES)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= m:
        raise ValueError(f"top_drivers: k={k!r} must be an integer from 1 to {m} "
                         "(the number of features)")
    if direction not in ("up", "down", "abs"):
        raise ValueError(f"top_drivers: direction={direction!r}; use 'up', 'down' or 'abs'")
    P = schema.in_feature_order(expl.pp).to_numpy(dtype=float)
    n = len(P)
    if direction == "up":
        key, valid = -P, P > 0
    elif direction == "down":
        key, valid = P, P < 0
    else:
        key, valid = -np.abs(P), np.ones_like(P, dtype=bool)
    if k < m:
        part = np.argpartition(key, k - 1, axis=1)[:, :k]
        sub = np.take_along_axis(key, part, axis=1)
        order = np.take_along_axis(part, np.argsort(sub, axis=1, kind="stable"), axis=1)
    else:
        order = np.argsort(key, axis=1, kind="stable")
    feats = np.array(schema.FEATURES, dtype=object)
    out = {}
    rows = np.arange(n)
    vals: dict[str, np.ndarray] = {}  # native dtype, converted only for features that occur
    for j in range(k):
        idx = order[:, j] if n else np.zeros(0, dtype=int)
        ok = valid[rows, idx] if n else np.zeros(0, dtype=bool)
        pp = np.where(ok, P[rows, idx] if n else np.zeros(0), np.nan)
        name = np.where(ok, feats[idx], "").astype(object)
        subj = np.full(n, "", dtype=object)
        plural = np.zeros(n, dtype=bool)
        if n:
            # Rows grouped by the slot's feature: one contiguous block per feature.
            by_feat = np.flatnonzero(ok)
            by_feat = by_feat[np.argsort(idx[by_feat], kind="stable")]
            starts = np.searchsorted(idx[by_feat], np.arange(m + 1))
            for fi, f in enumerate(schema.FEATURES):
                sel = by_feat[starts[fi]:starts[fi + 1]]
                if len(sel):
                    if f not in vals:
                        vals[f] = expl.values[f].to_numpy()
                    if n < _FEW_ROWS:
                        for i in sel:
                            subj[i], plural[i] = _subject(f, vals[f][i]), _plural(f, vals[f][i])
                    else:
                        subj[sel], plural[sel] = _subjects_vec(f, vals[f][sel])
        text = np.full(n, "", dtype=object)
        if ok.any() and n < _FEW_ROWS:   # one customer: the same sentences, without pandas
            for i in np.flatnonzero(ok):
                text[i] = f"{subj[i]} {_verb(pp[i], plural[i])}"
        elif ok.any():
            verbs = _verbs_vec(pp[ok], plural[ok])
            text[ok] = (pd.Series(subj[ok]) + " " + pd.Series(verbs)).to_numpy(dtype=object)
        out[f"driver_{j + 1}"] = name
        out[f"driver_{j + 1}_pp"] = pp
        out[f"driver_{j + 1}_text"] = text
    cols = ([f"driver_{j + 1}" for j in range(k)] + [f"driver_{j + 1}_pp" for j in range(k)]
            + [f"driver_{j + 1}_text" for j in range(k)])
    return {c: out[c] for c in cols}


def waterfall_data(expl: Explanation, i: int, k: int = 8) -> pd.DataFrame:
    """Rows of a waterfall chart for the customer at row position ``i`` (0-based).

    Output columns: measure ("absolute" for the base row, "relative" for features, "total" for
    the final row: Plotly's waterfall vocabulary), feature (schema name; "" for base/other/final),
    label, value_display, pp. The base row's pp is the average customer's probability in percent,
    then the top ``k`` features by |pp| (largest first), then "All other features" (their sum,
    only when features remain), then the customer's probability in percent. The relative rows add
    up exactly from the base to the final row.
    """
    n = len(expl)
    if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or not 0 <= i < n:
        raise ValueError(f"waterfall_data: i={i!r} is not a row position of this explanation "
                         f"(0..{n - 1})")
    m = len(schema.FEATURES)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= m:
        raise ValueError(f"waterfall_data: k={k!r} must be an integer from 1 to {m}")
    pp = expl.pp[schema.FEATURES].iloc[i].to_numpy(dtype=float)
    order = np.argsort(-np.abs(pp), kind="stable")
    top, rest = order[:k], order[k:]
    row = expl.values.iloc[i]
    rows = [("absolute", "", BASE_LABEL, f"{100 * expl.base_prob:.1f}%", 100 * expl.base_prob)]
    for j in top:
        f = schema.FEATURES[j]
        rows.append(("relative", f, short_label(f), display_value(f, row[f]), pp[j]))
    if len(rest):
        rows.append(("relative", "", OTHER_LABEL, f"{len(rest)} features", float(pp[rest].sum())))
    rows.append(("total", "", FINAL_LABEL, f"{100 * expl.prob[i]:.1f}%", 100 * float(expl.prob[i])))
    return pd.DataFrame(rows, columns=["measure", "feature", "label", "value_display", "pp"])


# --------------------------------------------------------------------------------------------
# Global views
# --------------------------------------------------------------------------------------------
def global_importance(expl: Explanation) -> pd.DataFrame:
    """Mean |pp| and mean pp per feature over the explained customers, most important first.

    Output columns: feature, label, mean_abs_pp, mean_pp (percentage points).
    """
    P = expl.pp[schema.FEATURES]
    out = pd.DataFrame({
        "feature": schema.FEATURES,
        "label": [short_label(f) for f in schema.FEATURES],
        "mean_abs_pp": P.abs().mean().to_numpy() if len(P) else np.zeros(len(schema.FEATURES)),
        "mean_pp": P.mean().to_numpy() if len(P) else np.zeros(len(schema.FEATURES)),
    })
    return out.sort_values("mean_abs_pp", ascending=False, kind="stable").reset_index(drop=True)


def _colour(feature: str, values: pd.Series) -> np.ndarray:
    """0..1 colour per value: numeric by rank (ties share; lowest 0, highest 1), category by
    schema value order, flags 0/1."""
    col = schema.BY_NAME[feature]
    if col.kind in ("integer", "money", "flag01"):
        v = pd.to_numeric(values, errors="coerce").fillna(0.0)
        if col.kind == "flag01":
            return v.to_numpy(dtype=float).clip(0, 1)
        r = v.rank(method="average").to_numpy(dtype=float)
        span = r.max() - r.min() if len(r) else 0.0
        return (r - r.min()) / span if span > 0 else np.full(len(r), 0.5)
    cats = list(col.values)
    code = pd.Categorical(values.astype(str), categories=cats).codes.astype(float)
    code[code < 0] = np.nan
    return code / (len(cats) - 1) if len(cats) > 1 else np.zeros(len(code))


def _display_vec(feature: str, values: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    return np.array([display_value(feature, v) for v in uniques], dtype=object)[codes]


def dependence_data(expl: Explanation, feature: str, color_by: str | None = None) -> pd.DataFrame:
    """Points for a dependence plot: a feature's value against its pp, coloured by another.

    Output columns: x (the feature's value: numbers for numeric features, the category text
    otherwise; a blank TotalCharges is 0 dollars billed, as the model sees it), x_display, pp
    (the feature's percentage points), colour_value (the second feature's value), colour_display,
    colour (0..1: numeric features by rank of value, categories by the schema's value order, flags
    0/1).
    """
    for name, f in (("feature", feature), ("color_by", color_by)):
        if f is None and name == "color_by":
            continue
        if f not in schema.FEATURES:
            raise ValueError(f"dependence_data: {name}={f!r} is not a feature "
                             f"(features: {', '.join(schema.FEATURES)})")
    color_by = color_by or feature
    vals = expl.values[feature].reset_index(drop=True)
    kind = schema.BY_NAME[feature].kind
    if kind in ("integer", "money", "flag01"):
        x = pd.to_numeric(vals, errors="coerce").fillna(0.0).to_numpy(dtype=float)
    else:
        x = vals.astype(str).to_numpy(dtype=object)
    cv = expl.values[color_by].reset_index(drop=True)
    return pd.DataFrame({
        "x": x,
        "x_display": _display_vec(feature, vals),
        "pp": expl.pp[feature].to_numpy(dtype=float),
        "colour_value": cv.astype(object).to_numpy(),
        "colour_display": _display_vec(color_by, cv),
        "colour": _colour(color_by, cv),
    })


def _money_bands(values: pd.Series, bands: int) -> tuple[pd.Series, list[str]]:
    v = values.astype(float)
    billed = v.dropna()
    labels: list[str] = []
    out = pd.Series(pd.NA, index=v.index, dtype=object)
    if len(billed):
        edges = np.unique(np.quantile(billed, np.linspace(0, 1, bands + 1)))
        if len(edges) == 1:
            edges = np.array([edges[0], edges[0]])
        idx = np.clip(np.searchsorted(edges, billed.to_numpy(), side="right") - 1, 0,
                      len(edges) - 2)
        for b in range(len(edges) - 1):
            labels.append(f"${edges[b]:,.2f}–${edges[b + 1]:,.2f}")
        out.loc[billed.index] = np.array(labels, dtype=object)[idx]
    if v.isna().any():
        out.loc[v.isna()] = "Not yet billed"
        labels = ["Not yet billed"] + labels
    return out, labels


def segment_churn_rates(df: pd.DataFrame, feature: str, prob=None) -> pd.DataFrame:
    """Observed churn rate per segment of one feature, to set beside the model's view.

    Segments: categories in schema order; SeniorCitizen No/Yes; tenure in bands 0-6, 7-12,
    13-24, 25-48, 49-72, 73+ months; money columns in quintile bands (plus "Not yet billed" for a
    blank TotalCharges). Empty segments are left out. Inputs: a canonical frame with ``Churn``
    (0/1) and optionally ``prob`` (the model's P(churn) per row). Output columns: segment,
    customers, churn_rate (share 0..1), and predicted_rate (mean P(churn), 0..1) when ``prob``
    is given.
    """
    if feature not in schema.FEATURES:
        raise ValueError(f"segment_churn_rates: {feature!r} is not a feature "
                         f"(features: {', '.join(schema.FEATURES)})")
    if schema.TARGET not in df.columns:
        raise ValueError("segment_churn_rates: the frame has no Churn column; observed churn "
                         "rates need customers whose outcome is known (the training sample)")
    col = schema.BY_NAME[feature]
    if col.kind == "integer":
        t = df[feature].astype(int)
        seg = pd.Series(pd.NA, index=df.index, dtype=object)
        labels = []
        for lo, hi in TENURE_BANDS:
            lab = f"{lo}+" if hi is None else f"{lo}-{hi}"
            labels.append(lab)
            seg[(t >= lo) & ((t <= hi) if hi is not None else True)] = lab
        seg[t < 0] = pd.NA
    elif col.kind == "money":
        seg, labels = _money_bands(df[feature], CHARGE_BANDS)
    elif col.kind == "flag01":
        seg = df[feature].astype(int).map({0: "No", 1: "Yes"})
        labels = ["No", "Yes"]
    else:
        seg = df[feature].astype(str)
        labels = [str(v) for v in col.values]
    frame = pd.DataFrame({"segment": seg.to_numpy(), "churn": df[schema.TARGET].astype(float)
                          .to_numpy()})
    if prob is not None:
        prob = np.asarray(prob, dtype=float)
        if len(prob) != len(df):
            raise ValueError(f"segment_churn_rates: prob has {len(prob)} values for {len(df)} "
                             "customers")
        frame["prob"] = prob
    g = frame.groupby("segment", sort=False)
    out = pd.DataFrame({"customers": g.size(), "churn_rate": g["churn"].mean()})
    if prob is not None:
        out["predicted_rate"] = g["prob"].mean()
    order = [lab for lab in labels if lab in out.index]
    out = out.loc[order].reset_index().rename(columns={"index": "segment"})
    out["customers"] = out["customers"].astype(int)
    return out


# --------------------------------------------------------------------------------------------
# Global explanation of a (sample of a) population, with caching
# --------------------------------------------------------------------------------------------
def sample_for_explanation(df: pd.DataFrame, sample_size: int | None = DEFAULT_SAMPLE_SIZE,
                           seed: int = 0) -> pd.DataFrame:
    """All rows when there are at most ``sample_size`` (or it is None), else a seeded sample."""
    if sample_size is not None and (not isinstance(sample_size, (int, np.integer))
                                    or isinstance(sample_size, bool) or sample_size < 1):
        raise ValueError(f"sample_size={sample_size!r} must be a positive whole number of "
                         "customers, or None for all of them")
    if sample_size is None or len(df) <= sample_size:
        return df
    return df.sample(n=int(sample_size), random_state=seed).sort_index()


def global_explanation(model, df: pd.DataFrame, sample_size: int | None = DEFAULT_SAMPLE_SIZE,
                       seed: int = 0) -> Explanation:
    """Explanation of the population for the global charts.

    Explains every customer when there are at most ``sample_size`` (default 10,000: the whole
    7,043-customer sample), else a seeded random sample of ``sample_size`` customers (the same
    seed gives the same sample). ``sample_size=None`` explains everyone.
    """
    return explain(model, sample_for_explanation(df, sample_size, seed))


def data_fingerprint(df: pd.DataFrame) -> str:
    """A short hash of a frame's content (values, columns and order of rows)."""
    h = hashlib.sha1()
    h.update("|".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def model_version(model) -> str:
    """The model's version string (``model.version``), used in cache keys."""
    v = getattr(model, "version", None)
    if v is None:
        raise ValueError("the model has no `version`; cached explanations need one to know "
                         "when the model changes")
    return str(v)


def explanation_key(model, df: pd.DataFrame, sample_size: int | None, seed: int) -> str:
    """Cache key of a global explanation: model version + data fingerprint + sample + seed."""
    return (f"explain/{model_version(model)}/{data_fingerprint(df)}/"
            f"{'all' if sample_size is None else int(sample_size)}/{int(seed)}")


def cached_global_explanation(model, df: pd.DataFrame, cache,
                              sample_size: int | None = DEFAULT_SAMPLE_SIZE,
                              seed: int = 0) -> Explanation:
    """`global_explanation`, kept in ``cache`` (a `churn.cache.DiskCache`, kind "explanation")
    under `explanation_key` so it is computed once per model version, data and sample (and
    code). None skips caching."""
    if cache is None:
        return global_explanation(model, df, sample_size, seed)
    from churn.cache import key

    k = key("explanation", explanation_key(model, df, sample_size, seed))
    return cache.get("explanation", k, lambda: global_explanation(model, df, sample_size, seed))
