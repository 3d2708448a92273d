"""The Model report's tables: how well each churn model family predicts (cross-validated), per
customer group, along the ROC / precision-recall / calibration / gains / lift curves, what its
mistakes cost at a threshold, how the offer recommender did against its baseline, and the saved
model versions. Also where the report's cost inputs start (`cost_defaults`).

Plain pandas over what training saved: a version's ``metadata.json`` (``churn.models``), its
out-of-fold (OOF) predictions (``churn.models.load_oof``) and the offer recommender's
``evaluation_`` (``churn.recommend``); every number comes from ``churn.metrics``. The app's Model
report page draws these tables (``ui.model_report``, ``ui.model_report_charts``); they are here,
not in ``ui/``, so the command line and tests can use them without Streamlit.

Units: probabilities and rates 0..1 in the tables (formatted as percent for display), money in
dollars, thresholds 0..1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn import metrics as M
from churn import schema

#: Metrics of the comparison table, in order.
TABLE_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "lift_at_20",
                 "precision_at_10", "precision_at_20", "recall_at_threshold",
                 "precision_at_threshold", "ece")


#: Column titles of the comparison and segment tables.
TITLES = {
    "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score", "log_loss": "Log loss",
    "lift_at_10": "Lift top 10%", "lift_at_20": "Lift top 20%",
    "precision_at_10": "Precision top 10%", "precision_at_20": "Precision top 20%",
    "recall_at_threshold": "Recall at threshold", "precision_at_threshold":
        "Precision at threshold", "ece": "Calibration error",
}


def metric_help(threshold: float = 0.5) -> dict[str, str]:
    """Business-words explanation of every metric (column tooltips and the legend).

    threshold: the decision threshold (0..1) the recall/precision columns were computed at.
    """
    t = f"{threshold:.0%}"
    return {
        "roc_auc": "ROC-AUC: the chance that the model rates a random churner as riskier than a "
                   "random customer who stays (0.5 = coin toss, 1 = perfect). Higher is better.",
        "pr_auc": "PR-AUC: how well the model finds churners among all customers, over every "
                  "length of call list (guessing scores the churn rate, 1 = perfect). "
                  "Higher is better.",
        "brier": "Brier score: the average squared gap between the predicted probability and "
                 "what happened (0 = perfect). Lower is better.",
        "log_loss": "Log loss: how surprised the model is by what actually happened; confident "
                    "mistakes cost the most. Lower is better.",
        "lift_at_10": "Lift top 10%: how many times more churners the 10% riskiest customers "
                      "hold than a random 10% (1 = no better than random). Higher is better.",
        "lift_at_20": "Lift top 20%: how many times more churners the 20% riskiest customers "
                      "hold than a random 20%. Higher is better.",
        "precision_at_10": "Precision top 10%: share of the 10% riskiest customers who really "
                           "churned. Higher is better.",
        "precision_at_20": "Precision top 20%: share of the 20% riskiest customers who really "
                           "churned. Higher is better.",
        "recall_at_threshold": f"Recall at threshold: share of all churners the model flags "
                               f"(churn probability of {t} or more). Higher is better.",
        "precision_at_threshold": f"Precision at threshold: share of flagged customers (churn "
                                  f"probability of {t} or more) who really churned. "
                                  "Higher is better.",
        "ece": "Calibration error: the average gap between predicted and actual churn rates in "
               "groups of similar predictions, in percentage points (0 = a predicted 30% means "
               "30% really leave). Lower is better.",
    }


_PARAM_NAMES = {"C": "regularisation C", "n_estimators": "trees", "max_depth": "max depth",
                "min_samples_leaf": "min customers per leaf", "learning_rate": "learning rate",
                "iterations": "trees", "depth": "depth"}


def params_text(params: dict) -> str:
    """Hyperparameters as a short sentence: "trees 100, max depth 6"."""
    if not params:
        return "defaults"
    return ", ".join(f"{_PARAM_NAMES.get(k, k)} {v}" for k, v in params.items())


def formatter(metric: str):
    """Display formatter of a metric value (missing → em dash)."""
    def fmt(v):
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "—"
        v = float(v)
        if metric.startswith("lift"):
            return f"{v:.2f}×"
        if metric.startswith(("precision", "recall")):
            return f"{v:.1%}"
        if metric == "ece":
            return f"{100 * v:.1f} pp"
        return f"{v:.3f}"
    return fmt


def format_metric(metric: str, value) -> str:
    """A metric value as the tables show it: "0.662", "2.91×", "78.0%", "4.8 pp", "—"."""
    return formatter(metric)(value)


def family_labels(metadata: dict) -> dict[str, str]:
    """{family code: label} of the families compared in a version, in metadata order."""
    return {name: d.get("label", name) for name, d in metadata.get("families", {}).items()}


def comparison_frame(metadata: dict) -> pd.DataFrame:
    """One row per family: Model, In use, the `TABLE_METRICS` (cross-validated means, raw units:
    rates 0..1), Chosen settings. Index: family code; the selected family first."""
    rows = []
    selected = metadata.get("selected")
    for name, d in metadata.get("families", {}).items():
        cv = d.get("cv", {})
        row = {"Model": d.get("label", name), "In use": name == selected}
        row.update({TITLES[m]: (np.nan if cv.get(m) is None else float(cv[m]))
                    for m in TABLE_METRICS})
        row["Chosen settings"] = params_text(d.get("params", {}))
        rows.append((name, row))
    rows.sort(key=lambda r: not r[1]["In use"])
    return pd.DataFrame([r for _, r in rows], index=pd.Index([n for n, _ in rows], name="family"))


def comparison_by_metric(metadata: dict) -> pd.DataFrame:
    """`comparison_frame` turned on its side, so four families fit a screen: one row per
    `TABLE_METRICS` metric (index "Metric": its title), one column per family (the model in use
    first, its label followed by " (in use)"; cross-validated means, raw units), and "Better":
    "higher" or "lower" (which direction is better for that metric)."""
    f = comparison_frame(metadata)
    cols = {}
    for _, row in f.iterrows():
        cols[row["Model"] + (" (in use)" if row["In use"] else "")] = [
            row[TITLES[m]] for m in TABLE_METRICS]
    out = pd.DataFrame(cols, index=pd.Index([TITLES[m] for m in TABLE_METRICS], name="Metric"))
    out["Better"] = ["higher" if M.HIGHER_IS_BETTER[m] else "lower" for m in TABLE_METRICS]
    return out


def by_metric_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`comparison_by_metric` as the page shows it: each row in its metric's format ("0.662",
    "2.91×", "67.3%", "4.8 pp", "—"), the model in use's column in bold (Markdown, which
    ``st.table`` renders). Text rather than a pandas Styler: importing the Styler imports
    matplotlib, about 1 s of a first visit."""
    by_title = {TITLES[m]: m for m in TABLE_METRICS}
    out = frame.astype(object).copy()
    for title in frame.index:
        fmt = formatter(by_title[title])
        for col in frame.columns:
            if col == "Better":
                continue
            text = fmt(frame.loc[title, col])
            out.loc[title, col] = f"**{text}**" if col.endswith(" (in use)") else text
    return out


#: Formats of the `segment_frame` columns as the page shows them.
_SEGMENT_FORMATS = {"Customers": "{:,}".format, "Churn rate": "{:.1%}".format,
                    "Predicted churn rate": "{:.1%}".format}


def segments_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`segment_frame` as text: counts with thousands separators, rates in percent, each metric
    in its format (`formatter`), missing values as an em dash."""
    out = frame.astype(object).copy()
    by_title = {TITLES[m]: m for m in TITLES}
    for col in frame.columns:
        fmt = (formatter(by_title[col]) if col in by_title else _SEGMENT_FORMATS.get(col))
        if fmt is None:
            continue
        out[col] = [("—" if v is None or (isinstance(v, float) and not math.isfinite(v))
                     else fmt(v)) for v in frame[col]]
    return out


def settings_text(metadata: dict) -> str:
    """Each family's settings chosen by cross-validation, in words, the model in use first:
    "CatBoost: depth 3, trees 300; Logistic regression: regularisation C 1.0"."""
    f = comparison_frame(metadata)
    return "; ".join(f"{m}: {s}" for m, s in zip(f["Model"], f["Chosen settings"]))


def segment_frame(metadata: dict, family: str | None = None) -> pd.DataFrame:
    """Per-segment metrics of one family (default: the selected one) from its pooled OOF
    predictions: Group, Value, Customers, Churn rate, Predicted churn rate, ROC-AUC, PR-AUC,
    Recall at threshold, Precision at threshold, Calibration error (rates 0..1)."""
    family = family or metadata.get("selected")
    segs = metadata.get("families", {}).get(family, {}).get("segments") or {}
    rows = []
    for col, groups in segs.items():
        for value, s in groups.items():
            shown = value
            if schema.BY_NAME.get(col) is not None and schema.BY_NAME[col].kind == "flag01":
                shown = "Yes" if str(value) in ("1", "1.0") else "No"
            row = {"Group": schema.label(col), "Value": shown, "Customers": int(s.get("n", 0)),
                   "Churn rate": s.get("churn_rate"), "Predicted churn rate":
                       s.get("mean_predicted")}
            for m in ("roc_auc", "pr_auc", "recall_at_threshold", "precision_at_threshold",
                      "ece"):
                row[TITLES[m]] = s.get(m)
            rows.append(row)
    out = pd.DataFrame(rows)
    num = [c for c in out.columns if c not in ("Group", "Value", "Customers")]
    return out.astype({c: float for c in num}) if len(out) else out


RECOMMENDER_NAMES = {"svd": "SVD (matrix factorisation)",
                     "knn": "KNNBaseline (similar offers)",
                     "popularity": "Most popular offer (baseline)"}


#: Recommender table columns and what each one measures (the page's column help).
RECOMMENDER_HELP = {
    "Accepted when in top 3": "Of the past offers this method would have put in the customer's "
                              "top 3, the share the customer accepted (precision@3). Higher is "
                              "better.",
    "Accepted offers caught": "Of all accepted past offers, the share this method had in the "
                              "customer's top 3 (recall@3). Higher is better.",
    "Past offers in its top 3": "How many held-out past offers fell in this method's top 3 for "
                                "their customer: the offers it can be judged on.",
    "Of which accepted": "How many of those the customer accepted.",
    "Brier score": "Mean squared error of the predicted chance of acceptance against what "
                   "happened (0 = perfect). Lower is better.",
}


def recommender_frame(evaluation: dict) -> pd.DataFrame:
    """The offer recommender's cross-validated comparison: Method, Accepted when in top 3,
    Accepted offers caught, Past offers in its top 3, Of which accepted, Brier score, Kept
    (bool). Input: ``OfferRecommender.evaluation_`` (see ``churn.recommend``)."""
    chosen = evaluation.get("chosen")
    rows = []
    for key, name in RECOMMENDER_NAMES.items():
        e = evaluation.get(key)
        if not isinstance(e, dict):
            continue
        rows.append({"Method": name,
                     "Accepted when in top 3": float(e.get("precision_at_3", np.nan)),
                     "Accepted offers caught": float(e.get("recall_at_3", np.nan)),
                     "Past offers in its top 3": int(e.get("n_top3", 0)),
                     "Of which accepted": int(e.get("n_hits", 0)),
                     "Brier score": float(e.get("brier", np.nan)),
                     "Kept": key == chosen})
    return pd.DataFrame(rows)


def recommender_note(evaluation: dict) -> str:
    """The caption under the recommender table: what was kept, on what data, and how to read the
    counts (the baseline judges more offers because it shows everyone the same three)."""
    chosen = evaluation.get("chosen")
    kept = RECOMMENDER_NAMES.get(chosen, chosen)
    base = evaluation.get("popularity") or {}
    e = evaluation.get(chosen) or {}
    n, acc = int(e.get("n_test", 0)), int(e.get("n_accepted", 0))
    text = (f"Kept: **{kept}**, the method whose top 3 offers were accepted most often (ties: "
            f"lower Brier score). Evaluated by 5-fold cross-validation on the {n:,} offers made "
            f"in past campaigns ({acc:,} accepted; control customers were never asked): each is "
            "predicted without its own answer, and only offers actually made can be judged.")
    if base and e:
        text += (f" The most popular offer baseline shows everyone the same three offers, so "
                 f"more past offers fall in its top 3 ({int(base.get('n_top3', 0)):,} against "
                 f"{int(e.get('n_top3', 0)):,}); it catches "
                 f"{int(base.get('n_hits', 0)):,} accepted offers against "
                 f"{int(e.get('n_hits', 0)):,} for the kept method, and is right less often "
                 f"({base.get('precision_at_3', 0):.1%} against {e.get('precision_at_3', 0):.1%}).")
    return text


def model_versions(versions: list[dict]) -> list[dict]:
    """`churn.models.list_versions` without folders that are not model versions (names starting
    with "_", such as ``_parts`` where ``churn.scoring`` keeps its fitted parts; version ids are
    hex digits)."""
    return [v for v in versions if not str(v.get("version", "_")).startswith("_")]


def versions_frame(versions: list[dict], labels: dict[str, str] | None = None) -> pd.DataFrame:
    """`churn.models.list_versions` output for display: Version, Trained (UTC), Model, Chosen
    by, Score, Customers, In use, MLflow run (`mlflow_label`), Status."""
    from churn.models import FAMILIES

    rows = []
    for v in versions:
        fam = v.get("family")
        label = (labels or {}).get(fam) or (FAMILIES[fam].label if fam in FAMILIES else fam)
        metric = v.get("selection_metric")
        rows.append({"Version": v["version"],
                     "Trained (UTC)": (v.get("created") or "").replace("T", " ")[:16] or "—",
                     "Model": label or "—",
                     "Chosen by": TITLES.get(metric, metric) if metric else "—",
                     "Score": v.get("score"),
                     "Customers": v.get("rows"),
                     "In use": bool(v.get("active")),
                     "MLflow run": mlflow_label(v),
                     "Status": "usable" if v.get("usable") else (v.get("problem") or "unusable")})
    return pd.DataFrame(rows, columns=["Version", "Trained (UTC)", "Model", "Chosen by", "Score",
                                       "Customers", "In use", "MLflow run", "Status"])


def mlflow_label(v: dict) -> str:
    """The version's MLflow run: "churn v3 · run 1a2b3c4d" (registered model version and the
    run id's first 8 characters), "run 1a2b3c4d" when not registered, "—" when not logged."""
    run = v.get("mlflow_run")
    if not run:
        return "—"
    mv = v.get("mlflow_model_version")
    return (f"churn v{mv} · " if mv else "") + f"run {str(run)[:8]}"


def version_label(v: dict) -> str:
    """Select-box label of a version: "aced256a · Random forest · 2026-11-21 20:10 (in use)"."""
    from churn.models import FAMILIES

    fam = v.get("family")
    label = FAMILIES[fam].label if fam in FAMILIES else (fam or "?")
    when = (v.get("created") or "").replace("T", " ")[:16]
    return f"{v['version'][:8]} · {label} · {when}" + (" (in use)" if v.get("active") else "")


def curve_tables(oof: pd.DataFrame, labels: dict[str, str], max_points: int = 101
                 ) -> dict[str, pd.DataFrame]:
    """Long tables of the four curves for every family with a ``p_<family>`` column in ``oof``.

    oof: ``churn.models.load_oof`` output (Churn 0/1 and p_<family> columns). labels: {family:
    label}. Returns {"roc": [family, label, fpr, tpr], "pr": [family, label, recall,
    precision], "reliability": [family, label, bin_low, bin_high, count, mean_predicted,
    churn_rate], "gains": [family, label, share_customers, share_churners, lift]} (0..1 except
    lift, a ratio; lift is NaN at share_customers 0).
    """
    y = oof[schema.TARGET].to_numpy(dtype=float)
    out: dict[str, list] = {"roc": [], "pr": [], "reliability": [], "gains": []}
    for fam, label in labels.items():
        col = f"p_{fam}"
        if col not in oof:
            continue
        c = M.curves(y, oof[col].to_numpy(dtype=float), max_points)
        for kind, data in c.items():
            if not data:
                continue
            frame = pd.DataFrame(data)
            frame.insert(0, "label", label)
            frame.insert(0, "family", fam)
            out[kind].append(frame)
    tables = {k: (pd.concat(v, ignore_index=True) if v else pd.DataFrame(columns=["family",
                                                                                  "label"]))
              for k, v in out.items()}
    g = tables["gains"]
    if len(g):
        share = g["share_customers"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            g["lift"] = np.where(share > 0, g["share_churners"].to_numpy(float) / share, np.nan)
    return tables


def cost_frame(y, p, offer_cost: float, customer_value: float) -> pd.DataFrame:
    """``churn.metrics.cost_curve`` on `THRESHOLD_GRID` as a DataFrame (one row per threshold)."""
    return pd.DataFrame(M.cost_curve(y, p, offer_cost, customer_value))


def row_at(cost: pd.DataFrame, threshold: float) -> pd.Series:
    """The `cost_frame` row of the grid threshold nearest to ``threshold`` (0..1)."""
    i = int(np.argmin(np.abs(cost["threshold"].to_numpy(float) - float(threshold))))
    return cost.iloc[i]


def count_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame of customer counts as text with thousands separators ("1,234")."""
    return frame.map(lambda v: f"{int(v):,}")


def confusion_frame(row: pd.Series) -> pd.DataFrame:
    """2 × 2 confusion matrix of a `cost_frame` row: rows Churned / Stayed, columns "Flagged
    (offer sent)" / "Not flagged"; customer counts."""
    return pd.DataFrame({"Flagged (offer sent)": [int(row["tp"]), int(row["fp"])],
                         "Not flagged": [int(row["fn"]), int(row["tn"])]},
                        index=pd.Index(["Churned", "Stayed"], name="Actually"))


@dataclass(frozen=True)
class CostDefaults:
    """Starting values of the report's cost inputs, each with where it comes from.

    threshold: churn probability (0..1) at or above which a customer is flagged; offer_cost:
    dollars per customer contacted; customer_value: dollars lost per missed churner. The
    ``*_source`` fields are one sentence each, for the inputs' help text.
    """

    threshold: float
    threshold_source: str
    offer_cost: float
    offer_cost_source: str
    customer_value: float
    customer_value_source: str


#: Offer cost used when the catalogue has no offer (dollars).
FALLBACK_OFFER_COST = 40.0


def cost_defaults(clv, offer_costs, high_risk: float) -> CostDefaults:
    """Where the report's threshold and cost inputs start, taken from the data in use.

    clv: lifetime value (dollars) of each active customer in use, as the Overview totals it
    (``churn.ltv.clv`` under the sidebar's settings). offer_costs: the catalogue's offer costs
    (dollars). high_risk: the business settings' High-risk threshold (0..1).
    customer_value is the mean lifetime value and offer_cost the mean catalogue cost, both
    rounded to the dollar; threshold is high_risk rounded to the report's 0.01 grid.
    Raises ValueError when clv holds no finite value (no active customer to take it from) or
    high_risk is outside 0..1.
    """
    if not 0.0 <= float(high_risk) <= 1.0:
        raise ValueError(f"high_risk={high_risk!r} must be a churn probability between 0 and 1.")
    value = np.asarray(clv, dtype=float)
    value = value[np.isfinite(value)]
    if not len(value):
        raise ValueError("There is no active customer with a lifetime value to start the "
                         "customer value from; choose a data set with active customers in the "
                         "sidebar.")
    mean_value = float(value.mean())
    costs = [float(c) for c in offer_costs]
    if costs:
        offer = float(round(sum(costs) / len(costs)))
        offer_src = (f"Default: the average cost of the {len(costs)} offers in the catalogue "
                     f"(${min(costs):,.0f}–${max(costs):,.0f}), ${offer:,.0f}.")
    else:
        offer = FALLBACK_OFFER_COST
        offer_src = (f"The offer catalogue has no offers, so the default is a placeholder of "
                     f"${offer:,.0f}.")
    threshold = round(float(high_risk), 2)
    return CostDefaults(
        threshold=threshold,
        threshold_source=(f"Default: the High-risk threshold of the business settings in the "
                          f"sidebar ({threshold:.2f}), so flagged means High risk."),
        offer_cost=offer, offer_cost_source=offer_src,
        customer_value=float(round(mean_value)),
        customer_value_source=(f"Default: the average lifetime value of the {len(value):,} "
                               f"active customers in use (${mean_value:,.0f}; margin, discount "
                               "rate and horizon from the sidebar), as on the Overview."))
