"""Figures of the Model report: one Plotly figure per curve (ROC, precision-recall,
calibration, cumulative gains, lift) with every model family and the one in use highlighted, and
the cost of mistakes by threshold. Plain functions of the tables of ``churn.model_report`` (no
Streamlit), tested directly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from churn import metrics as M
from ui.chart_style import readable

SELECTED_COLOUR = "#d62728"


FAMILY_COLOURS = {"lr": "#1f77b4", "rf": "#2ca02c", "xgb": "#9467bd", "cat": "#ff7f0e"}
#: Colours of families added later (one module in churn/models/families/), picked by name so a
#: family keeps its colour on every chart without an entry above.
SPARE_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22")


NEUTRAL = "#7f7f7f"


def family_colour(fam: str) -> str:
    """The line colour of a model family: its own, else a spare one chosen by its name."""
    import zlib

    return FAMILY_COLOURS.get(fam) or SPARE_COLOURS[zlib.crc32(fam.encode()) % len(SPARE_COLOURS)]


_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10), template="plotly_white",
               legend=dict(orientation="h", y=-0.2))


def _style(fam: str, selected: str | None) -> dict:
    sel = fam == selected
    return dict(color=SELECTED_COLOUR if sel else family_colour(fam),
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


@readable
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


@readable
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


@readable
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


@readable
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


@readable
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


@readable
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
