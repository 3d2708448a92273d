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

import copy
import functools

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


@functools.lru_cache(maxsize=1)
def _panels() -> dict:
    """The layout of three stacked panels sharing the x axis, with their titles and the white
    template, as plain JSON: what `make_subplots` and the template give, built once (building
    them through Plotly's validated objects took most of the 300-600 ms of every sweep chart)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.09,
                        subplot_titles=PANELS)
    fig.update_annotations(font=dict(size=14, color="#262730"))  # the panel titles
    fig.update_layout(template="plotly_white")
    return fig.layout.to_plotly_json()


def _line(row: int, *, x=None, y=None, **line) -> dict:
    """A full-width horizontal (``y``) or full-height vertical (``x``) line in panel ``row``."""
    axis = "" if row == 1 else str(row)
    if x is not None:
        return dict(type="line", xref=f"x{axis}", x0=x, x1=x, yref=f"y{axis} domain", y0=0, y1=1,
                    line=line)
    return dict(type="line", xref=f"x{axis} domain", x0=0, x1=1, yref=f"y{axis}", y0=y, y1=y,
                line=line)


@readable
def sweep_figure(sweep: pd.DataFrame, pd_curve: pd.DataFrame | None = None) -> go.Figure:
    """Three panels (probability, lifetime value, best offer's net value) over the swept values.

    Inputs: `churn.whatif.sweep` output (one feature), optional `churn.whatif.partial_dependence`
    of the same feature (drawn faint, grey, dashed, behind the customer's curve). Probabilities
    are drawn in percent, money in dollars. Built as plain JSON and wrapped without Plotly's
    validation (the same figure, about 20× quicker: it is redrawn on every edit of the form).
    """
    feature = str(sweep["feature"].iloc[0])
    col = schema.BY_NAME[feature]
    numeric = col.kind in ("integer", "money")
    mode = "lines+markers" if numeric else "markers"
    x = _x(feature, sweep["value"])
    cd = [[v.item() if hasattr(v, "item") else v] for v in sweep["value"]]
    shown = sweep["value_display"].astype(str).tolist()
    size = [13 if c else 7 for c in sweep["is_current"]]
    edge = dict(color=[CURRENT if c else "white" for c in sweep["is_current"]], width=2)
    data = []
    if pd_curve is not None and len(pd_curve):
        data.append(dict(
            type="scatter", xaxis="x", yaxis="y", x=_x(feature, pd_curve["value"]),
            y=(100 * pd_curve["churn_prob"]).to_numpy(float), mode=mode,
            name="All customers (partial dependence)", line=dict(color=NEUTRAL, dash="dot"),
            marker=dict(color=NEUTRAL, size=6), opacity=0.45,
            hovertemplate="all customers: %{y:.1f}%<extra></extra>"))
    data.append(dict(
        type="scatter", xaxis="x", yaxis="y", x=x, y=(100 * sweep["churn_prob"]).to_numpy(float),
        mode=mode, name="This customer", line=dict(color=RAISE),
        marker=dict(color=RAISE, size=size, line=edge), customdata=cd, text=shown,
        hovertemplate="%{text}<br>churn probability %{y:.1f}%<extra></extra>"))
    data.append(dict(
        type="scatter", xaxis="x2", yaxis="y2", x=x, y=sweep["clv"].to_numpy(float), mode=mode,
        name="Lifetime value", showlegend=False, line=dict(color=LOWER),
        marker=dict(color=LOWER, size=size, line=edge), customdata=cd, text=shown,
        hovertemplate="%{text}<br>lifetime value $%{y:,.0f}<extra></extra>"))
    offer = sweep["offer_name"].astype(str).where(sweep["offer_name"].astype(str) != "",
                                                  "no offer applies")
    colours = [WORTH if w else NOT_WORTH for w in sweep["offer_worth_making"]]
    data.append(dict(
        type="scatter", xaxis="x3", yaxis="y3", x=x, y=sweep["offer_net_value"].to_numpy(float),
        mode=mode, name="Best offer", showlegend=False, line=dict(color=NEUTRAL, width=1),
        marker=dict(color=colours, size=size, line=edge), customdata=cd,
        text=[f"{s}<br>{o}" for s, o in zip(shown, offer)],
        hovertemplate="%{text}<br>expected net value $%{y:,.0f}<extra></extra>"))

    layout = copy.deepcopy(_panels())
    shapes = [_line(3, y=0, color=NEUTRAL, width=1)]
    current = sweep.index[sweep["is_current"]]
    if len(current):
        i = sweep.index.get_loc(current[0])
        at = x[i] if numeric else i
        shapes += [_line(r, x=at, color=CURRENT, dash="dash", width=1) for r in (1, 2, 3)]
        layout["annotations"].append(dict(x=at, y=1.0, yref="paper", yanchor="bottom",
                                          text=f"now: {shown[i]}", showarrow=False,
                                          font=dict(color=CURRENT, size=13)))
    layout["shapes"] = shapes
    for name in ("xaxis", "xaxis2", "xaxis3"):
        if not numeric:
            layout[name].update(type="category", categoryorder="array", categoryarray=x)
    layout["xaxis3"]["title"] = dict(text=schema.label(feature))
    layout["yaxis"]["ticksuffix"] = "%"
    layout["yaxis2"]["tickformat"] = "$,.0f"   # d3's "$": −$20, not $−20
    layout["yaxis3"]["tickformat"] = "$,.0f"
    layout.update(height=620, margin=dict(l=10, r=20, t=60, b=10), font=dict(size=13),
                  clickmode="event+select", dragmode=False,
                  legend=dict(orientation="h", x=0, y=-0.12), hoverlabel=dict(font=dict(size=13)))
    return go.Figure(data=data, layout=layout, _validate=False)
