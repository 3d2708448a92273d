"""Figures of the Campaign results page (plotly): predicted against measured uplift."""
from __future__ import annotations

import plotly.graph_objects as go

from churn.results import Measure
from ui.chart_style import readable

_MARGIN = dict(l=10, r=10, t=50, b=10)


@readable
def predicted_vs_measured(items: list[Measure]) -> go.Figure:
    """For each set of customers (the campaign, then each offer or tier): the uplift the campaign
    predicted beside the uplift measured with its 95% interval, in percentage points. Sets that
    could not be measured show the prediction only (hover says why)."""
    labels = [m.label for m in items]
    pred = [None if m.predicted_uplift is None else m.predicted_uplift * 100 for m in items]
    meas = [m.uplift * 100 if m.measured else None for m in items]
    up = [(m.ci95[1] - m.uplift) * 100 if m.measured else 0 for m in items]
    down = [(m.uplift - m.ci95[0]) * 100 if m.measured else 0 for m in items]
    notes = [("" if m.measured else m.note) for m in items]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=pred, name="Predicted by the campaign",
                         marker_color="#9db4d0",
                         hovertemplate="%{x}<br>Predicted %{y:+.1f} points<extra></extra>"))
    fig.add_trace(go.Bar(x=labels, y=meas, name="Measured (95% interval)",
                         marker_color="#1f5fa8", customdata=notes,
                         error_y=dict(type="data", symmetric=False, array=up, arrayminus=down,
                                      color="#222", thickness=1.5, width=6),
                         hovertemplate="%{x}<br>Measured %{y:+.1f} points<br>%{customdata}"
                                       "<extra></extra>"))
    fig.add_hline(y=0, line_color="#666", line_width=1)
    fig.update_layout(barmode="group", title="Uplift: predicted against measured",
                      yaxis_title="Drop in churn (percentage points)", margin=_MARGIN,
                      height=380, font=dict(size=13),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return fig
