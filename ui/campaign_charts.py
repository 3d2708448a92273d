"""Figures of the Retention campaign page (plotly), built from the core's frames.

`curve_figure`: expected saved revenue against budget with the chosen budget marked;
`mix_figure`: how many treated customers get each offer. Pages draw them; nothing here computes
a campaign.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from ui.chart_style import readable

_MARGIN = dict(l=10, r=10, t=50, b=10)
_FONT = dict(size=13)


@readable
def curve_figure(curve: pd.DataFrame, budget: float, saved: float) -> go.Figure:
    """`campaign.saved_revenue_curve` (budget, expected_saved_revenue, customers) as a line, and
    the chosen budget with its campaign's expected saved revenue as a marker (dollars)."""
    fig = go.Figure(go.Scatter(x=curve["budget"], y=curve["expected_saved_revenue"],
                               mode="lines", name="Expected saved revenue",
                               customdata=curve["customers"],
                               hovertemplate="Budget $%{x:,.0f}<br>Saved $%{y:,.0f}<br>"
                                             "%{customdata:,} customers (both groups)"
                                             "<extra></extra>"))
    fig.add_trace(go.Scatter(x=[budget], y=[saved], mode="markers", marker=dict(size=11),
                             name="Your budget",
                             hovertemplate="Your budget $%{x:,.0f}<br>Saved $%{y:,.0f}"
                                           "<extra></extra>"))
    fig.update_layout(title="Expected saved revenue against budget", xaxis_title="Budget ($)",
                      yaxis_title="Expected saved revenue ($)", showlegend=False,
                      margin=_MARGIN, height=360, font=_FONT)
    return fig


@readable
def mix_figure(mix: pd.DataFrame) -> go.Figure:
    """`campaign.offers_mix` (offer, customers, cost) as horizontal bars, most customers first."""
    fig = go.Figure(go.Bar(x=mix["customers"], y=mix["offer"], orientation="h",
                           customdata=mix["cost"],
                           hovertemplate="%{y}<br>%{x:,} customers<br>Cost $%{customdata:,.0f}"
                                         "<extra></extra>"))
    fig.update_layout(title="Offers mix (customers who get the offer)", xaxis_title="Customers",
                      yaxis=dict(autorange="reversed"), margin=_MARGIN, height=360, font=_FONT)
    return fig
