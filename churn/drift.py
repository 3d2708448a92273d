"""Is a batch of customers like the customers the model learned from? Population stability index.

The population stability index (PSI) of one feature compares its distribution in a *reference*
frame (the training customers, ``Engine.customers``) with a *batch* (e.g. an upload):

    PSI = sum over bins i of (b_i - r_i) x ln(b_i / r_i)

where r_i and b_i are the shares (0..1) of reference and batch rows in bin i. It is 0 when the
two distributions are identical and grows as they move apart; it is symmetric in r and b.

Bins (decided by the reference only, so a batch never moves them):

- **Categorical features** (and the 0/1 ``SeniorCitizen``): one bin per category. The schema's
  values come first, then any value seen in either frame (a value the training data never had
  is a bin with reference share 0, which shows up as a large PSI).
- **Numeric features** (``tenure``, ``MonthlyCharges``, ``TotalCharges``): 10 quantile bins of the
  reference: the edges are the reference's 10%, 20%, ..., 90% quantiles (duplicates dropped,
  so a heavily tied feature gets fewer bins); bin 0 is everything up to the first edge
  (inclusive), the last bin everything above the last edge, so batch values outside the
  reference's range still land in the first or last bin. Blank values (``TotalCharges`` NaN =
  not billed yet) are one extra bin of their own.
- **Empty bins**: a share of 0 would make ln(b/r) infinite, so every share is floored at
  ``EPSILON`` = 0.0001 (one in ten thousand) before the formula. A bin empty in both frames
  then contributes exactly 0; a bin empty in one frame contributes a large but finite amount.

Status per feature (the usual credit-scoring thresholds): PSI < 0.1 "stable",
0.1 <= PSI < 0.25 "moderate shift", PSI >= 0.25 "drifted".

Everything is vectorised (category codes and ``np.searchsorted``, then ``np.bincount``), so a
batch of 100,000 customers takes a few tens of milliseconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn import schema

EPSILON = 1e-4           # floor for a bin's share (see the module docstring)
N_BINS = 10              # quantile bins for numeric features
MODERATE = 0.10          # PSI from which a feature has a moderate shift
DRIFTED = 0.25           # PSI from which a feature has drifted

STABLE, MODERATE_SHIFT, DRIFTED_STATUS = "stable", "moderate shift", "drifted"
STATUSES = (STABLE, MODERATE_SHIFT, DRIFTED_STATUS)

#: Features binned by quantiles of the reference; every other feature is binned by category.
QUANTILE_FEATURES = [c.name for c in schema.COLUMNS if c.kind in ("integer", "money")]

MISSING_BIN = "blank"


def psi(reference_share, batch_share, epsilon: float = EPSILON) -> float:
    """PSI of two share vectors over the same bins (each 0..1 and summing to 1).

    Shares below `epsilon` are raised to `epsilon` first. Returns a float >= 0.
    """
    r = np.maximum(np.asarray(reference_share, dtype=float), epsilon)
    b = np.maximum(np.asarray(batch_share, dtype=float), epsilon)
    if r.shape != b.shape:
        raise ValueError(f"reference_share has {r.size} bins but batch_share has {b.size}; "
                         "both must be shares over the same bins")
    return float(np.sum((b - r) * np.log(b / r)))


def status(value: float) -> str:
    """"stable" (< 0.1), "moderate shift" (0.1 to < 0.25) or "drifted" (>= 0.25)."""
    if value >= DRIFTED:
        return DRIFTED_STATUS
    if value >= MODERATE:
        return MODERATE_SHIFT
    return STABLE


def _label(feature: str) -> str:
    return schema.label(feature)


def _short(feature: str) -> str:
    """The label without its unit: "Tenure" for "Tenure (months)"."""
    return _label(feature).split(" (")[0]


def _check(frame, what: str, features: list[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{what} must be a canonical customer DataFrame, got "
                         f"{type(frame).__name__}")
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {', '.join(missing)}; expected a canonical "
                         "customer frame (validate the file with churn.validate first)")
    if len(frame) == 0:
        raise ValueError(f"{what} has no rows; the population stability index needs customers "
                         "on both sides")


def quantile_edges(reference_values, n_bins: int = N_BINS) -> np.ndarray:
    """Interior bin edges of a numeric feature: the reference's 1/n .. (n-1)/n quantiles, unique.

    Blank (NaN) values are ignored. Returns an increasing float array (possibly empty when every
    value is the same).
    """
    v = np.asarray(reference_values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(v, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))


def _numeric_bins(values, edges: np.ndarray) -> np.ndarray:
    """Bin number of each value: searchsorted over the edges; NaN -> the extra last bin."""
    v = np.asarray(values, dtype=float)
    out = np.searchsorted(edges, v, side="left")
    out[np.isnan(v)] = len(edges) + 1
    return out


def _numeric_labels(edges: np.ndarray) -> list[str]:
    def num(x: float) -> str:
        return f"{x:,.2f}".rstrip("0").rstrip(".")

    if len(edges) == 0:
        return ["all values", MISSING_BIN]
    labels = [f"up to {num(edges[0])}"]
    labels += [f"over {num(lo)} to {num(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
    labels += [f"over {num(edges[-1])}", MISSING_BIN]
    return labels


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_bins).astype(float)
    return counts / counts.sum()


def distributions(reference: pd.DataFrame, batch: pd.DataFrame, feature: str) -> pd.DataFrame:
    """The bins of one feature and both shares: DataFrame[bin, reference, batch] (shares 0..1).

    Bins as in the module docstring; for a numeric feature the blank bin is listed only when
    either frame has blanks.
    """
    _check(reference, "reference", [feature])
    _check(batch, "batch", [feature])
    if feature in QUANTILE_FEATURES:
        ref = pd.to_numeric(reference[feature], errors="coerce").to_numpy(float)
        new = pd.to_numeric(batch[feature], errors="coerce").to_numpy(float)
        edges = quantile_edges(ref)
        n = len(edges) + 2
        out = pd.DataFrame({"bin": _numeric_labels(edges),
                            "reference": _shares(_numeric_bins(ref, edges), n),
                            "batch": _shares(_numeric_bins(new, edges), n)})
        if out["reference"].iloc[-1] == 0 and out["batch"].iloc[-1] == 0:
            out = out.iloc[:-1]
        return out
    known = [str(v) for v in schema.BY_NAME[feature].values] if feature in schema.BY_NAME else []
    ref, new = _category_counts(reference[feature]), _category_counts(batch[feature])
    known_set = set(known)
    cats = known + sorted(v for v in set(ref) | set(new) if v not in known_set)
    ref_n = np.array([ref.get(c, 0) for c in cats], dtype=float)
    new_n = np.array([new.get(c, 0) for c in cats], dtype=float)
    return pd.DataFrame({"bin": cats, "reference": ref_n / ref_n.sum(),
                         "batch": new_n / new_n.sum()})


def _category_counts(values: pd.Series) -> dict[str, int]:
    """Rows per distinct value, keyed by the value as text (factorize, then count the codes)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    counts = np.bincount(codes, minlength=len(uniques))
    out: dict[str, int] = {}
    for value, n in zip(uniques, counts):
        key = str(value)
        out[key] = out.get(key, 0) + int(n)
    return out


def psi_table(reference: pd.DataFrame, batch: pd.DataFrame,
              features: list[str] | None = None) -> pd.DataFrame:
    """PSI of every feature between the training customers and a batch.

    reference: canonical frame the model learned from (``Engine.customers``). batch: canonical
    frame to check. features: default ``schema.FEATURES``.
    Returns DataFrame[feature, label, psi, status], one row per feature, largest PSI first
    (ties in schema order); psi >= 0 (unitless), status one of `STATUSES`.
    Raises ValueError when a frame is not a DataFrame, lacks a feature or has no rows.
    """
    features = list(schema.FEATURES if features is None else features)
    _check(reference, "reference", features)
    _check(batch, "batch", features)
    rows = []
    for order, f in enumerate(features):
        d = distributions(reference, batch, f)
        value = psi(d["reference"].to_numpy(), d["batch"].to_numpy())
        rows.append((f, _label(f), value, status(value), order))
    out = pd.DataFrame(rows, columns=["feature", "label", "psi", "status", "_order"])
    out = out.sort_values(["psi", "_order"], ascending=[False, True], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def _names(features) -> str:
    names = [_short(f) for f in features]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


#: Below this many customers a batch's shares are too noisy for the PSI to mean drift.
MIN_ROWS = 500
TOO_SMALL = "too small to judge"


def drift_verdict(table: pd.DataFrame, rows: int | None = None) -> tuple[str, str]:
    """A level and a sentence for the whole batch, from a `psi_table`.

    rows: the batch's number of customers, when known. Under `MIN_ROWS` the level is
    "too small to judge": with a few dozen customers a segment's share moves by whole percentage
    points by chance, so a high PSI says little (the table is still shown for information).

    level: "drifted" when any feature has drifted, else "moderate shift" when any has a moderate
    shift, else "stable". The message names the features concerned, worst first, e.g. "The
    model may not apply: Contract and Tenure differ strongly from the training data ...".
    """
    if not isinstance(table, pd.DataFrame) or not {"feature", "psi"} <= set(table.columns):
        raise ValueError("drift_verdict takes the DataFrame returned by psi_table "
                         "(columns feature, label, psi, status)")
    if rows is not None and rows < MIN_ROWS:
        return TOO_SMALL, (f"Only {rows:,} customers: too few to judge drift reliably (a "
                           f"stable comparison needs about {MIN_ROWS:,}). The stability index "
                           "per feature is shown for information.")
    t = table.sort_values("psi", ascending=False, kind="stable")
    drifted = t.loc[t["psi"] >= DRIFTED, "feature"].tolist()
    moderate = t.loc[(t["psi"] >= MODERATE) & (t["psi"] < DRIFTED), "feature"].tolist()
    if drifted:
        verb = "differs" if len(drifted) == 1 else "differ"
        msg = (f"The model may not apply: {_names(drifted)} {verb} strongly from the training "
               f"data (population stability index {DRIFTED} or more). Treat these scores with "
               "caution, or retrain the model on customers like these.")
        if moderate:
            msg += f" {_names(moderate)} also shifted moderately."
        return DRIFTED_STATUS, msg
    if moderate:
        verb = "has" if len(moderate) == 1 else "have"
        return MODERATE_SHIFT, (f"{_names(moderate)} {verb} shifted moderately from the training "
                                f"data (population stability index {MODERATE} to {DRIFTED}). "
                                "The scores are usable; keep an eye on these features.")
    return STABLE, ("These customers look like the training data: every feature's population "
                    f"stability index is below {MODERATE}.")
