"""The Model health page's cached report, its table and its charts.

The report (`churn.health.health_report`) is cached with `st.cache_data`, keyed by the model
version, the saved batches (names and save times) and the business settings, so a warm page
never rescores. The table and figure builders are plain functions of the report (no Streamlit),
so tests call them directly.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from churn import drift, health, schema
from churn.config import BusinessSettings
from ui.chart_style import readable

COLOURS = {health.GREEN: "#2e7d32", health.AMBER: "#ef8f00", health.RED: "#c62828"}
LIGHTS = {health.GREEN: "🟢 OK", health.AMBER: "🟠 Watch", health.RED: "🔴 Act"}


# --- the cached report --------------------------------------------------------------------------
@st.cache_data(show_spinner="Checking the model against every saved batch…", max_entries=8)
def _report(version: str, batches_key: tuple, settings_key: tuple, _store, _model,
            _reference) -> health.HealthReport:
    return health.health_report(_store, _model, _reference, BusinessSettings(**dict(settings_key)))


def report(store, model, reference: pd.DataFrame, settings_key: tuple) -> health.HealthReport:
    """`churn.health.health_report`, computed once per (model, batches, campaign outcomes,
    settings)."""
    try:
        found = store.list_batches() if store is not None else pd.DataFrame()
        hist = store.load_campaign_history() if store is not None else None
    except Exception:  # noqa: BLE001 - a locked store: no batches rather than an error
        found, hist, store = pd.DataFrame(), None, None
    key = tuple(zip(found.get("name", []), map(str, found.get("created", []))))
    key += (("campaign outcomes", 0 if hist is None else len(hist),
             "" if hist is None else pd.util.hash_pandas_object(hist, index=False).sum()),)
    return _report(model.version, key, settings_key, store, model, reference)


@st.cache_data(ttl=60, show_spinner=False)
def alias_warning(models_dir: str, version: str) -> str:
    """`churn.tracking.check_aliases`' message (empty when the registry's champion is the model
    in use), checked at most once a minute."""
    from churn import tracking

    return tracking.check_aliases(models_dir)["message"]


# --- the table ----------------------------------------------------------------------------------
def _num(x, fmt: str) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _interval(row, key: str, fmt: str) -> str:
    v = row[key]
    if v != v:
        return "—"
    return f"{v:{fmt}} ({row[key + '_low']:{fmt}}–{row[key + '_high']:{fmt}})"


def _features(names) -> str:
    return ", ".join(schema.label(f) for f in names) if names else "—"


def _when(r: dict) -> str:
    """A batch's save time; a campaign's date (when its offers were made)."""
    if r["created"] is None or r["created"] != r["created"]:
        return "—"
    if r.get("source") == "campaign":
        return f"{pd.Timestamp(r['created']):%Y-%m-%d} (campaign date)"
    return pd.Timestamp(r["created"]).strftime("%Y-%m-%d %H:%M")


def table(rep: health.HealthReport) -> pd.DataFrame:
    """One display row per batch, newest first (text columns, ready to show)."""
    out = []
    for r in rep.rows.iloc[::-1].to_dict("records"):
        out.append({
            "Health": LIGHTS[r["status"]], "Batch or campaign": r["batch"], "Why": r["why"],
            "Customers": f"{r['customers']:,}",
            "Drifted (PSI ≥ 0.25)": _features(r["drifted"]),
            "Shifted (PSI 0.10–0.25)": _features(r["shifted"]),
            "Mean predicted churn": _num(r["mean_prob"], ".1%"),
            "Churned (actual)": _num(r["observed_rate"], ".1%"),
            "ROC-AUC (95% interval)": _interval(r, "roc_auc", ".2f"),
            "Precision top 10% (95% interval)": _interval(r, "precision_at_10", ".1%"),
            "Expected precision": _num(r["expected_precision"], ".1%"),
            "Actual precision": _num(r["precision_at_threshold"], ".1%"),
            "Expected recall": _num(r["expected_recall"], ".1%"),
            "High / Medium / Low risk": " / ".join(_num(r[t], ".1%")
                                                   for t in ("high", "medium", "low")),
            "Saved (UTC)": _when(r),
        })
    return pd.DataFrame(out)


# --- the charts ---------------------------------------------------------------------------------
def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.2))
    return fig


@readable
def drift_heatmap(rep: health.HealthReport) -> go.Figure:
    """PSI of every feature (rows) in every batch (columns, oldest first)."""
    if rep.psi.empty:
        return _layout(go.Figure(), "Drift: no saved batches yet")
    wide = rep.psi.pivot(index="feature", columns="batch", values="psi")
    wide = wide[[b for b in rep.rows["batch"] if b in wide.columns]]  # campaigns: no drift
    wide = wide.loc[wide.max(axis=1).sort_values().index]
    labels = [schema.label(f) for f in wide.index]
    fig = go.Figure(go.Heatmap(
        z=wide.to_numpy(), x=list(wide.columns), y=labels, zmin=0, zmax=0.5,
        colorscale=[[0, "#f1f8e9"], [drift.MODERATE / 0.5, "#fff3c4"],
                    [drift.DRIFTED / 0.5, "#ffb74d"], [1, "#c62828"]],
        colorbar=dict(title="PSI"), text=[[f"{v:.2f}" for v in row] for row in wide.to_numpy()],
        texttemplate="%{text}",
        hovertemplate="%{y} in %{x}: PSI %{z:.3f}<extra></extra>"))
    return _layout(fig, "Drift from the training customers (population stability index)",
                   height=max(360, 22 * len(labels) + 120))


@readable
def predictions_chart(rep: health.HealthReport) -> go.Figure:
    """Tier mix (stacked bars) and mean predicted / actual churn (lines) per batch."""
    rows = rep.rows
    fig = go.Figure()
    for tier, colour in (("high", "#c62828"), ("medium", "#ef8f00"), ("low", "#90a4ae")):
        fig.add_bar(x=rows["batch"], y=rows[tier], name=f"{tier.title()} risk share",
                    marker_color=colour, opacity=0.55)
    fig.add_scatter(x=rows["batch"], y=rows["mean_prob"], name="Mean predicted churn",
                    mode="lines+markers", line=dict(color="#1f4e79", width=3))
    fig.add_scatter(x=rows["batch"], y=rows["observed_rate"], name="Churned (actual)",
                    mode="markers", marker=dict(color="black", size=11, symbol="diamond"))
    fig.add_hline(y=rep.training["churn_rate"], line_dash="dot", line_color="#1f4e79",
                  annotation_text="churn rate at training", annotation_position="top left")
    fig.update_layout(barmode="stack", yaxis=dict(tickformat=".0%", range=[0, 1]))
    return _layout(fig, "Predicted churn and risk-tier mix per batch")


@readable
def performance_chart(rep: health.HealthReport) -> go.Figure:
    """Realised ROC-AUC and precision in the top 10% with intervals, against training."""
    rows = rep.rows
    fig = go.Figure()
    spec = (("roc_auc", "ROC-AUC", "#1f4e79"), ("precision_at_10", "Precision in top 10%",
                                                 "#8e24aa"))
    for key, name, colour in spec:
        fig.add_scatter(x=rows["batch"], y=rows[key], name=f"{name} (realised)",
                        mode="markers", marker=dict(size=11, color=colour),
                        error_y=dict(type="data", symmetric=False,
                                     array=rows[f"{key}_high"] - rows[key],
                                     arrayminus=rows[key] - rows[f"{key}_low"]))
        camp = rows[rows["source"] == "campaign"]
        if len(camp):  # a campaign list's own baseline: training customers as risky
            fig.add_scatter(x=camp["batch"], y=camp[f"training_{key}"], mode="markers",
                            name=f"{name} at training, customers as risky",
                            marker=dict(color=colour, size=22, symbol="line-ew-open",
                                        line=dict(width=3, color=colour)))
        base = rep.training[key]
        if base == base:
            fig.add_hline(y=base, line_dash="dot", line_color=colour,
                          annotation_text=f"{name} at training {base:.2f}",
                          annotation_position="bottom right")
    fig.add_scatter(x=rows["batch"], y=rows["expected_precision"], mode="lines+markers",
                    name="Precision at threshold: expected", line=dict(color="#ef8f00", dash="dash"))
    fig.add_scatter(x=rows["batch"], y=rows["precision_at_threshold"], mode="markers",
                    name="Precision at threshold: actual",
                    marker=dict(color="#ef8f00", size=11, symbol="diamond"))
    fig.update_layout(yaxis=dict(title="0 to 1 (higher is better)"))
    return _layout(fig, "Performance once outcomes are in (bars: 95% bootstrap interval)")
