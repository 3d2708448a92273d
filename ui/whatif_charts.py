"""Plotly figures of the Customer what-if page's sweep, built from `churn.whatif` tables.

Pure functions (no streamlit), tested directly. `sweep_figure` draws, for one customer across a
feature's range or levels, three stacked panels sharing the x axis: churn probability (with the
population's partial-dependence curve faint behind it), lifetime value, and the best offer's
expected net value (zero line: below it no offer pays for itself). The customer's current value
is marked in every panel. Every point carries its canonical value in ``customdata[0]`` so a click
(``st.plotly_chart(on_select=...)``) can be turned back into a form value
(`churn.whatif.value_from_point`).
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from churn import schema
from ui.explain_charts import LOWER, NEUTRAL, RAISE
from ui.chart_style import readable

WORTH = "#2ca02c"      # an offer worth making (positive expected net value)
NOT_WORTH = "#9e9e9e"  # the best offer loses money
CURRENT = "#ff7f0e"    # the customer's current value
PANELS = ("Churn probability (%)", "Lifetime value ($)", "Best offer: expected net value ($)")


def _x(feature: str, values: pd.Series) -> list:
    """x positions: numbers for numeric features, the shown text for categories and flags."""
    col = schema.BY_NAME[feature]
    if col.kind in ("integer", "money"):
        return [float(v) for v in values]
    if col.kind == "flag01":
        return ["Yes" if int(v) else "No" for v in values]
    return [str(v) for v in values]


@readable
def sweep_figure(sweep: pd.DataFrame, pd_curve: pd.DataFrame | None = None) -> go.Figure:
    """Three panels (probability, lifetime value, best offer's net value) over the swept values.

    Inputs: `churn.whatif.sweep` output (one feature), optional `churn.whatif.partial_dependence`
    of the same feature (drawn faint, grey, dashed, behind the customer's curve). Probabilities
    are drawn in percent, money in dollars.
    """
    feature = str(sweep["feature"].iloc[0])
    col = schema.BY_NAME[feature]
    numeric = col.kind in ("integer", "money")
    mode = "lines+markers" if numeric else "markers"
    x = _x(feature, sweep["value"])
    cd = [[v.item() if hasattr(v, "item") else v] for v in sweep["value"]]
    shown = sweep["value_display"].astype(str).tolist()
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.09,
                        subplot_titles=PANELS)
    if pd_curve is not None and len(pd_curve):
        fig.add_trace(go.Scatter(
            x=_x(feature, pd_curve["value"]), y=100 * pd_curve["churn_prob"], mode=mode,
            name="All customers (partial dependence)", line=dict(color=NEUTRAL, dash="dot"),
            marker=dict(color=NEUTRAL, size=6), opacity=0.45,
            hovertemplate="all customers: %{y:.1f}%<extra></extra>"), row=1, col=1)
    size = [13 if c else 7 for c in sweep["is_current"]]
    line = [CURRENT if c else "white" for c in sweep["is_current"]]
    fig.add_trace(go.Scatter(
        x=x, y=100 * sweep["churn_prob"], mode=mode, name="This customer",
        line=dict(color=RAISE), marker=dict(color=RAISE, size=size,
                                            line=dict(color=line, width=2)),
        customdata=cd, text=shown,
        hovertemplate="%{text}<br>churn probability %{y:.1f}%<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=x, y=sweep["clv"], mode=mode, name="Lifetime value", showlegend=False,
        line=dict(color=LOWER), marker=dict(color=LOWER, size=size,
                                            line=dict(color=line, width=2)),
        customdata=cd, text=shown,
        hovertemplate="%{text}<br>lifetime value $%{y:,.0f}<extra></extra>"), row=2, col=1)
    offer = sweep["offer_name"].astype(str).where(sweep["offer_name"].astype(str) != "",
                                                  "no offer applies")
    colours = [WORTH if w else NOT_WORTH for w in sweep["offer_worth_making"]]
    fig.add_trace(go.Scatter(
        x=x, y=sweep["offer_net_value"], mode=mode, name="Best offer", showlegend=False,
        line=dict(color=NEUTRAL, width=1), marker=dict(color=colours, size=size,
                                                       line=dict(color=line, width=2)),
        customdata=cd, text=[f"{s}<br>{o}" for s, o in zip(shown, offer)],
        hovertemplate="%{text}<br>expected net value $%{y:,.0f}<extra></extra>"), row=3, col=1)
    fig.add_hline(y=0, line_color=NEUTRAL, line_width=1, row=3, col=1)
    fig.update_annotations(font=dict(size=14, color="#262730"))  # the panel titles
    current = sweep.index[sweep["is_current"]]
    if len(current):
        i = sweep.index.get_loc(current[0])
        for r in (1, 2, 3):
            fig.add_vline(x=x[i] if numeric else i, line_color=CURRENT, line_dash="dash",
                          line_width=1, row=r, col=1)
        now = dict(x=x[i] if numeric else i, y=1.0, yref="paper", yanchor="bottom",
                   text=f"now: {shown[i]}", showarrow=False)
        fig.add_annotation(**now, font=dict(color=CURRENT, size=13))
    axis = schema.label(feature)
    if not numeric:
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=x)
    fig.update_xaxes(title=axis, row=3, col=1)
    fig.update_yaxes(ticksuffix="%", row=1, col=1)
    fig.update_yaxes(tickformat="$,.0f", row=2, col=1)   # d3's "$": −$20, not $−20
    fig.update_yaxes(tickformat="$,.0f", row=3, col=1)
    fig.update_layout(height=620, margin=dict(l=10, r=20, t=60, b=10), template="plotly_white",
                      font=dict(size=13), clickmode="event+select", dragmode=False,
                      legend=dict(orientation="h", x=0, y=-0.12),
                      hoverlabel=dict(font_size=13))
    return fig
