"""The Overview page's figures and the cached tables behind them.

Tables are SQL aggregates (`churn.stored_views`: the definitions of `churn.ltv`'s
`data_summary`, `portfolio_summary`, `revenue_at_risk_by_segment`) over where the rows live, and
`churn.ltv.km_curves` over the three columns it needs; cached with `st.cache_data`, keyed by
`ui.context.data_key`, the model version and the business settings, so a warm page never
recomputes them. The figure builders are plain
functions of those tables (no Streamlit), so tests call them directly.

Chart sizes do not grow with the number of customers: a Kaplan-Meier curve has one point per
distinct tenure (at most ~73 per segment) and the bar chart one bar per segment, so 100,000
customers need no sampling here.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from churn import ltv, schema, stored_views
from ui import format as fmt
from ui.chart_style import readable

#: Segment choices: value passed to churn.ltv -> label shown in the select box.
SEGMENT_LABELS = {"Contract": "Contract", "InternetService": "Internet service",
                  "PaymentMethod": "Payment method", "tenure band": "Tenure band (months)"}

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


# --- cached tables ------------------------------------------------------------------------------
# Keys: `ui.context.data_key` (a saved batch's name and save time, or a frame's fingerprint),
# plus the model version and the business settings for the model's figures. The rows and the
# list source are passed as underscore arguments (not hashed).
@st.cache_data(show_spinner=False, max_entries=32)
def _summary(key: tuple, _rows) -> ltv.DataSummary:
    return stored_views.data_summary(_rows)


def summary(rows) -> ltv.DataSummary:
    """`churn.stored_views.data_summary` of the rows (`ui.context.rows`), remembered."""
    return _summary(rows.key, rows)


@st.cache_data(show_spinner=False, max_entries=32)
def _outcomes_known(key: tuple, _rows) -> bool:
    return stored_views.has_outcomes(_rows)


def outcomes_known(rows) -> bool:
    """True when every row has a known Churn (0/1): retention curves can be drawn from them."""
    return _outcomes_known(rows.key, rows)


@st.cache_data(show_spinner=False, max_entries=32)
def kpis(list_key: tuple, _source) -> dict:
    """`churn.stored_views.portfolio` of a scored list (the customers still here)."""
    return stored_views.portfolio(_source)


@st.cache_data(show_spinner="Computing retention curves…", max_entries=32)
def km_table(key: tuple, by: str, _rows) -> pd.DataFrame:
    """`churn.ltv.km_curves` of the rows split by `by`, from only the columns it needs (tenure,
    Churn, the segment) fetched in SQL. Also kept on disk (`churn.cache.results`), so a
    restarted server draws the Overview without importing lifelines or reading the rows."""
    from churn import cache

    def compute() -> pd.DataFrame:
        cols = [schema.TENURE, schema.TARGET] + ([] if by == "tenure band" else [by])
        return ltv.km_curves(stored_views.columns(_rows, cols), by)

    return cache.results().get("km", cache.key("km", key, by), compute)


@st.cache_data(show_spinner=False, max_entries=32)
def risk_table(list_key: tuple, by: str, _source) -> pd.DataFrame:
    """`churn.stored_views.risk_by_segment` of a scored list (the customers still here)."""
    return stored_views.risk_by_segment(_source, by)


# --- figures ------------------------------------------------------------------------------------
def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


@readable
def km_figure(curves: pd.DataFrame, segment_label: str) -> go.Figure:
    """Kaplan-Meier retention curves (steps) with 95% confidence bands, one colour a segment.

    curves: `churn.ltv.km_curves` output. x: months with the company; y: share still a
    customer (0..1, shown as %).
    """
    fig = go.Figure()
    for i, (seg, part) in enumerate(curves.groupby("segment", sort=False)):
        colour = _PALETTE[i % len(_PALETTE)]
        t = part["timeline"].to_numpy()
        fig.add_trace(go.Scatter(x=t, y=part["ci_upper"], mode="lines", line_shape="hv",
                                 line=dict(width=0), hoverinfo="skip", showlegend=False,
                                 legendgroup=str(seg)))
        fig.add_trace(go.Scatter(x=t, y=part["ci_lower"], mode="lines", line_shape="hv",
                                 line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(colour, 0.18), hoverinfo="skip",
                                 showlegend=False, legendgroup=str(seg)))
        fig.add_trace(go.Scatter(
            x=t, y=part["survival"], mode="lines", line_shape="hv", name=str(seg),
            legendgroup=str(seg), line=dict(color=colour, width=2),
            customdata=part[["ci_lower", "ci_upper"]].to_numpy(),
            hovertemplate=(f"<b>{seg}</b><br>After %{{x:.0f}} months: %{{y:.1%}} still "
                           "customers<br>95% band %{customdata[0]:.1%} – %{customdata[1]:.1%}"
                           "<extra></extra>")))
    fig.update_layout(
        xaxis_title="Months with the company", yaxis_title="Still a customer",
        yaxis=dict(tickformat=".0%", range=[0, 1.02]),
        legend=dict(title_text=segment_label, orientation="h", yanchor="bottom", y=1.02,
                    xanchor="left", x=0),
        margin=dict(l=10, r=10, t=30, b=10), height=380, hovermode="closest")
    return fig


@readable
def risk_figure(table: pd.DataFrame, segment_label: str) -> go.Figure:
    """Revenue at risk per segment (bars, dollars), with customers and average risk on hover.

    table: `churn.ltv.revenue_at_risk_by_segment` output.
    """
    text = [fmt.money_short(v) for v in table["revenue_at_risk"]]
    custom = pd.DataFrame({"customers": [fmt.count(v) for v in table["customers"]],
                           "avg": [fmt.pct(v) for v in table["avg_churn_prob"]],
                           "share": [fmt.pct(v) for v in table["risk_share"]],
                           "money": [fmt.money(v) for v in table["revenue_at_risk"]]})
    fig = go.Figure(go.Bar(
        x=table["segment"].astype(str), y=table["revenue_at_risk"], text=text,
        textposition="outside", marker_color=_PALETTE[3], customdata=custom.to_numpy(),
        hovertemplate=("<b>%{x}</b><br>Revenue at risk %{customdata[3]} (%{customdata[2]} of "
                       "the total)<br>%{customdata[0]} customers, average churn risk "
                       "%{customdata[1]}<extra></extra>")))
    fig.update_layout(xaxis_title=segment_label, yaxis_title="Revenue at risk ($)",
                      yaxis=dict(tickprefix="$", tickformat="~s"),
                      margin=dict(l=10, r=10, t=30, b=10), height=380)
    return fig


def has_outcomes(frame: pd.DataFrame) -> bool:
    """True when every row has a known Churn (0/1): retention curves can be drawn from it."""
    return schema.TARGET in frame and len(frame) > 0 and frame[schema.TARGET].notna().all()
