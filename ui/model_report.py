"""Tables, figures and cached data for the Model report page.

Three parts:
- pure table builders (pandas in, pandas out) over a model version's ``metadata.json``
  (``churn.models``), its out-of-fold (OOF) predictions (``churn.models.load_oof``) and the offer
  recommender's ``evaluation_`` (``churn.recommend``); numbers come from ``churn.metrics``;
- pure Plotly figure builders over those tables (tested directly, no Streamlit needed);
- cached accessors (``st.cache_data`` keyed by the models folder and the model version, so a
  rerun never recomputes a curve and never retrains anything).

Units: probabilities and rates 0..1 in the tables (formatted as percent for display), money in
dollars, thresholds 0..1.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from churn import metrics as M
from churn import schema

SELECTED_COLOUR = "#d62728"
FAMILY_COLOURS = {"lr": "#1f77b4", "rf": "#2ca02c", "xgb": "#9467bd", "cat": "#ff7f0e"}
NEUTRAL = "#7f7f7f"
HIGHLIGHT = "background-color: rgba(255, 196, 0, 0.28)"
_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10), template="plotly_white",
               legend=dict(orientation="h", y=-0.2))

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


def _fmt(metric: str):
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
    return _fmt(metric)(value)


# --- tables -------------------------------------------------------------------------------------
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


def style_comparison(frame: pd.DataFrame):
    """`comparison_frame` as a pandas Styler: metric formats, the model in use highlighted."""
    fmt = {TITLES[m]: _fmt(m) for m in TABLE_METRICS if TITLES[m] in frame}
    fmt["In use"] = lambda v: "✓ in use" if v else ""
    return frame.style.format(fmt).apply(
        lambda row: [HIGHLIGHT if row["In use"] else "" for _ in row], axis=1)


def comparison_column_config(threshold: float = 0.5) -> dict:
    """Streamlit column configuration: a business-words tooltip on every metric column."""
    helps = metric_help(threshold)
    cfg = {TITLES[m]: st.column_config.Column(TITLES[m], help=helps[m]) for m in TABLE_METRICS}
    cfg["In use"] = st.column_config.Column("In use", help="The model every page uses now.")
    cfg["Chosen settings"] = st.column_config.Column(
        "Chosen settings", help="Hyperparameters picked by cross-validation for this family.")
    return cfg


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


def style_segments(frame: pd.DataFrame):
    """`segment_frame` as a Styler with percent / 3-decimal formats."""
    fmt = {"Churn rate": "{:.1%}", "Predicted churn rate": "{:.1%}", "Customers": "{:,}"}
    fmt.update({TITLES[m]: _fmt(m) for m in ("roc_auc", "pr_auc", "recall_at_threshold",
                                              "precision_at_threshold", "ece")})
    return frame.style.format({k: v for k, v in fmt.items() if k in frame}, na_rep="—")


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


# --- curves (from out-of-fold predictions) ------------------------------------------------------
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


def _style(fam: str, selected: str | None) -> dict:
    sel = fam == selected
    return dict(color=SELECTED_COLOUR if sel else FAMILY_COLOURS.get(fam, NEUTRAL),
                width=3.5 if sel else 1.8, dash="solid" if sel else "dot")


def _name(label: str, fam: str, selected: str | None) -> str:
    return f"{label} (in use)" if fam == selected else label


def _family_lines(fig: go.Figure, table: pd.DataFrame, x: str, y: str, selected: str | None,
                  hover: str, mode: str = "lines") -> None:
    order = sorted(table["family"].unique(), key=lambda f: f == selected)  # selected on top
    for fam in order:
        d = table[table["family"] == fam]
        fig.add_trace(go.Scatter(x=d[x], y=d[y], mode=mode, line=_style(fam, selected),
                                 name=_name(d["label"].iloc[0], fam, selected),
                                 hovertemplate=hover + "<extra>%{fullData.name}</extra>"))


def roc_figure(roc: pd.DataFrame, selected: str | None = None) -> go.Figure:
    """ROC curve per family (false alarm rate vs share of churners caught) and the diagonal."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Random guess",
                             line=dict(color=NEUTRAL, dash="dash", width=1), hoverinfo="skip"))
    _family_lines(fig, roc, "fpr", "tpr", selected,
                  "false alarm rate %{x:.1%}<br>churners caught %{y:.1%}")
    fig.update_xaxes(title="Share of stayers wrongly flagged (false alarm rate)",
                     tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title="Share of churners caught (recall)", tickformat=".0%", range=[0, 1.02])
    fig.update_layout(title="ROC curve: churners caught vs false alarms", height=430, **_LAYOUT)
    return fig


def pr_figure(pr: pd.DataFrame, churn_rate: float, selected: str | None = None) -> go.Figure:
    """Precision-recall curve per family and the churn rate (what random guessing achieves)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[churn_rate, churn_rate], mode="lines",
                             name=f"Random guess ({churn_rate:.1%} churn rate)",
                             line=dict(color=NEUTRAL, dash="dash", width=1), hoverinfo="skip"))
    _family_lines(fig, pr, "recall", "precision", selected,
                  "churners caught %{x:.1%}<br>flagged who churn %{y:.1%}")
    fig.update_xaxes(title="Share of churners caught (recall)", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title="Share of flagged customers who churn (precision)", tickformat=".0%",
                     range=[0, 1.02])
    fig.update_layout(title="Precision-recall: how clean the call list is", height=430,
                      **_LAYOUT)
    return fig


def reliability_figure(rel: pd.DataFrame, selected: str | None = None) -> go.Figure:
    """Calibration: mean predicted probability vs observed churn rate per probability bin, with
    the diagonal of perfect calibration."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfectly calibrated",
                             line=dict(color=NEUTRAL, dash="dash", width=1), hoverinfo="skip"))
    order = sorted(rel["family"].unique(), key=lambda f: f == selected)
    for fam in order:
        d = rel[rel["family"] == fam]
        fig.add_trace(go.Scatter(
            x=d["mean_predicted"], y=d["churn_rate"], mode="lines+markers",
            line=_style(fam, selected), name=_name(d["label"].iloc[0], fam, selected),
            customdata=np.stack([d["count"], d["bin_low"], d["bin_high"]], axis=-1),
            hovertemplate="predicted %{x:.1%}, actually churned %{y:.1%}<br>"
                          "%{customdata[0]:,} customers predicted %{customdata[1]:.0%}–"
                          "%{customdata[2]:.0%}<extra>%{fullData.name}</extra>"))
    fig.update_xaxes(title="Predicted churn probability (bin average)", tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(title="Share who actually churned", tickformat=".0%", range=[0, 1.02])
    fig.update_layout(title="Calibration: do predicted probabilities come true?", height=430,
                      **_LAYOUT)
    return fig


def gains_figure(gains: pd.DataFrame, selected: str | None = None) -> go.Figure:
    """Cumulative gains: share of all churners reached when contacting the riskiest X% first."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Random order",
                             line=dict(color=NEUTRAL, dash="dash", width=1), hoverinfo="skip"))
    _family_lines(fig, gains, "share_customers", "share_churners", selected,
                  "contact the riskiest %{x:.0%}<br>reach %{y:.1%} of churners")
    fig.update_xaxes(title="Share of customers contacted (riskiest first)", tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(title="Share of all churners reached", tickformat=".0%", range=[0, 1.02])
    fig.update_layout(title="Cumulative gains: churners reached per share contacted",
                      height=430, **_LAYOUT)
    return fig


def lift_figure(gains: pd.DataFrame, selected: str | None = None) -> go.Figure:
    """Lift: how many times more churners the riskiest X% hold than a random X%."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[1, 1], mode="lines", name="Random order (lift 1)",
                             line=dict(color=NEUTRAL, dash="dash", width=1), hoverinfo="skip"))
    _family_lines(fig, gains.dropna(subset=["lift"]), "share_customers", "lift", selected,
                  "riskiest %{x:.0%}: %{y:.2f}× the churners of a random group")
    fig.update_xaxes(title="Share of customers contacted (riskiest first)", tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(title="Lift (× random)", rangemode="tozero")
    fig.update_layout(title="Lift: how much better than a random call list", height=430,
                      **_LAYOUT)
    return fig


# --- threshold, confusion matrix and cost -------------------------------------------------------
def cost_frame(y, p, offer_cost: float, customer_value: float) -> pd.DataFrame:
    """``churn.metrics.cost_curve`` on `THRESHOLD_GRID` as a DataFrame (one row per threshold)."""
    return pd.DataFrame(M.cost_curve(y, p, offer_cost, customer_value))


def row_at(cost: pd.DataFrame, threshold: float) -> pd.Series:
    """The `cost_frame` row of the grid threshold nearest to ``threshold`` (0..1)."""
    i = int(np.argmin(np.abs(cost["threshold"].to_numpy(float) - float(threshold))))
    return cost.iloc[i]


def confusion_frame(row: pd.Series) -> pd.DataFrame:
    """2 × 2 confusion matrix of a `cost_frame` row: rows Churned / Stayed, columns "Flagged
    (offer sent)" / "Not flagged"; customer counts."""
    return pd.DataFrame({"Flagged (offer sent)": [int(row["tp"]), int(row["fp"])],
                         "Not flagged": [int(row["fn"]), int(row["tn"])]},
                        index=pd.Index(["Churned", "Stayed"], name="Actually"))


def cost_figure(cost: pd.DataFrame, threshold: float | None = None) -> go.Figure:
    """Total, false-alarm and missed-churner cost (dollars) per threshold; the lowest total is
    marked with a star, the chosen threshold with a vertical line."""
    best = M.best_threshold(cost.to_dict("list"))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=cost["threshold"], y=cost["false_alarm_cost"], mode="lines",
                             name="False alarms (offers to stayers)",
                             line=dict(color=FAMILY_COLOURS["lr"], width=1.8, dash="dot"),
                             hovertemplate="threshold %{x:.2f}: $%{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=cost["threshold"], y=cost["missed_cost"], mode="lines",
                             name="Missed churners (value lost)",
                             line=dict(color=FAMILY_COLOURS["cat"], width=1.8, dash="dot"),
                             hovertemplate="threshold %{x:.2f}: $%{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=cost["threshold"], y=cost["total_cost"], mode="lines",
                             name="Total cost of mistakes", line=dict(color=SELECTED_COLOUR,
                                                                      width=3.5),
                             hovertemplate="threshold %{x:.2f}: $%{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[best["threshold"]], y=[best["total_cost"]], mode="markers",
                             name=f"Lowest cost (threshold {best['threshold']:.2f})",
                             marker=dict(symbol="star", size=16, color="black"),
                             hovertemplate="lowest total cost $%{y:,.0f} at %{x:.2f}"
                                           "<extra></extra>"))
    if threshold is not None:
        fig.add_vline(x=float(threshold), line_color=NEUTRAL, line_dash="dash",
                      annotation_text=f"chosen {float(threshold):.2f}",
                      annotation_position="top")
    fig.update_xaxes(title="Decision threshold (flag customers with churn probability ≥ this)",
                     range=[0, 1])
    fig.update_yaxes(title="Cost (dollars)", tickprefix="$", tickformat=",.0f", rangemode="tozero")
    fig.update_layout(title="Cost of mistakes by threshold", height=430, **_LAYOUT)
    return fig


def default_customer_value(monthly_charges, margin: float, months: int = 12) -> float:
    """A starting value for "average customer value" in dollars: ``months`` of profit on the
    average monthly bill (mean MonthlyCharges × margin × months), rounded to $10."""
    m = pd.to_numeric(pd.Series(monthly_charges), errors="coerce").mean()
    if not math.isfinite(m):
        return 500.0
    return float(round(m * float(margin) * months / 10.0) * 10.0)


def default_offer_cost(costs) -> float:
    """A starting value for "offer cost" in dollars: the catalogue's average offer cost, rounded
    to the dollar ($40 when the catalogue has no offers)."""
    c = [float(x) for x in costs]
    return float(round(sum(c) / len(c))) if c else 40.0


# --- cached accessors (keyed by the models folder and the model version) ------------------------
@st.cache_data(show_spinner="Reading the cross-validation predictions…", max_entries=4)
def oof(models_dir: str, version: str) -> pd.DataFrame:
    """``churn.models.load_oof`` of a version (treat as read-only)."""
    from churn.models import load_oof

    return load_oof(version, models_dir)


@st.cache_data(show_spinner="Drawing the model curves…", max_entries=4)
def curves(models_dir: str, version: str, labels_json: str) -> dict[str, pd.DataFrame]:
    """`curve_tables` of a version's OOF predictions (labels_json: json of {family: label})."""
    return curve_tables(oof(models_dir, version), json.loads(labels_json))


@st.cache_data(max_entries=32)
def cost(models_dir: str, version: str, family: str, offer_cost: float,
         customer_value: float) -> pd.DataFrame:
    """`cost_frame` of one family's OOF predictions under the given dollar inputs."""
    d = oof(models_dir, version)
    return cost_frame(d[schema.TARGET].to_numpy(float), d[f"p_{family}"].to_numpy(float),
                      offer_cost, customer_value)
