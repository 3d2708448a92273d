"""Plotly figures for the explanation pages, built from `churn.explain` tables.

Pure functions (no streamlit): each takes the frame a `churn.explain` function returns and gives
a `plotly.graph_objects.Figure`, so they are tested directly. Every chart shows percentage points
of churn probability; pages put `churn.explain.UNIT_NOTE` under them.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from churn import explain as E
from churn import schema
from ui.chart_style import readable

RAISE = "#d62728"   # raises the churn risk
LOWER = "#1f77b4"   # lowers the churn risk
NEUTRAL = "#7f7f7f"
COLOURSCALE = [[0.0, "#3b4cc0"], [0.5, "#dddddd"], [1.0, "#b40426"]]  # low value → high value
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
#: Draw the beeswarm with WebGL (`Scattergl`) rather than SVG (`Scatter`). In headless Chromium
#: without a GPU, WebGL costs about 0.5-0.8 s whatever the number of points, SVG about 0.18 ms
#: per point: for the beeswarm's 9,500 points WebGL is about twice as quick (0.9 s against
#: 3.2 s at load 6), for the dependence chart's 1,500 SVG is (see `dependence`).
BEESWARM_WEBGL = True
_BEESWARM_BAR = dict(title="Feature value", tickvals=[0, 1],
                     ticktext=["low / first", "high / last"])


def _scale_colour(position: float) -> str:
    """The colour of `COLOURSCALE` at ``position`` (0..1), as an rgb() string."""
    stops = [(p, tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))) for p, c in COLOURSCALE]
    position = min(max(float(position), 0.0), 1.0)
    for (p0, c0), (p1, c1) in zip(stops, stops[1:]):
        if position <= p1:
            t = (position - p0) / (p1 - p0) if p1 > p0 else 0.0
            return "rgb({},{},{})".format(*(round(a + (b - a) * t) for a, b in zip(c0, c1)))
    return "rgb({},{},{})".format(*stops[-1][1])


def _escape(text: str) -> str:
    """Text shown as written inside a hover template (which reads <tags> as markup)."""
    return html.escape(text, quote=False)


@readable
def importance_bar(importance: pd.DataFrame, top: int | None = None) -> go.Figure:
    """Horizontal bars of mean |pp| per feature (most important on top).

    Input: `explain.global_importance` output. top: show only the first ``top`` features.
    """
    d = importance if top is None else importance.head(top)
    d = d.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=d["mean_abs_pp"], y=d["label"], orientation="h", marker_color=RAISE,
        customdata=np.stack([d["mean_pp"]], axis=-1),
        hovertemplate="%{y}<br>average size of effect: %{x:.2f} pp<br>"
                      "average effect: %{customdata[0]:+.2f} pp<extra></extra>"))
    fig.update_layout(title="How much each feature moves churn risk (average |pp|)",
                      xaxis_title="Average effect size (percentage points)",
                      height=max(320, 26 * len(d) + 80), **_LAYOUT)
    return fig


@readable
def beeswarm(points: pd.DataFrame, top: int | None = None, webgl: bool = BEESWARM_WEBGL
             ) -> go.Figure:
    """One row of points per feature: each point is a customer, x = the feature's pp for that
    customer, colour = the customer's value of that feature (blue low → red high; categories by
    their order in the schema). Input: `churn.global_explain.beeswarm_points` output.

    No per-point text reaches the browser: a numeric feature is one trace whose hover formats
    the value from a numeric array; a categorical feature is one trace per category, which
    names the category once in its hover template (about 46 traces for the 19 features).
    """
    d = points if top is None else points[points["order"] < top]
    n_feat = int(d["order"].max()) + 1 if len(d) else 0
    labels = (d.drop_duplicates("order").set_index("order")["label"].reindex(range(n_feat))
              if len(d) else pd.Series(dtype=object))
    trace = go.Scattergl if webgl else go.Scatter
    fig = go.Figure()
    bar_shown = False
    for (order, feature), rows in d.groupby(["order", "feature"], sort=True):
        label = str(rows["label"].iloc[0])
        kind = schema.BY_NAME[feature].kind
        y = (rows["jitter"].to_numpy(np.float32) + np.float32(order))
        if kind in ("integer", "money"):
            unit = E.unit(feature)
            value = ("$%{customdata:,.2f}" if kind == "money" else
                     "%{customdata:,.0f}" + (f" {unit}" if unit else ""))
            fig.add_trace(trace(
                x=rows["pp"].to_numpy(np.float32), y=y, mode="markers", showlegend=False,
                customdata=rows["number"].to_numpy(np.float32),
                marker=dict(size=4, color=rows["colour"].to_numpy(np.float32),
                            colorscale=COLOURSCALE, cmin=0, cmax=1, opacity=0.7,
                            showscale=not bar_shown, colorbar=_BEESWARM_BAR),
                hovertemplate=f"{_escape(label)} = {value}<br>%{{x:+.1f}} pp<extra></extra>"))
            bar_shown = True
            continue
        for category, cat_rows in rows.groupby("category", sort=False):
            pick = (rows["category"] == category).to_numpy()
            colour = float(cat_rows["colour"].iloc[0])
            fig.add_trace(trace(
                x=rows["pp"].to_numpy(np.float32)[pick], y=y[pick], mode="markers",
                showlegend=False,
                marker=dict(size=4, opacity=0.7,
                            color=_scale_colour(colour) if colour == colour else NEUTRAL),
                hovertemplate=(f"{_escape(label)} = {_escape(str(category))}<br>%{{x:+.1f}} pp"
                               "<extra></extra>")))
    if not bar_shown and len(d):     # the colour key even when no numeric feature is drawn
        fig.add_trace(trace(x=[None], y=[None], mode="markers", showlegend=False,
                            hoverinfo="skip",
                            marker=dict(color=[0, 1], colorscale=COLOURSCALE, cmin=0, cmax=1,
                                        showscale=True, colorbar=_BEESWARM_BAR)))
    fig.add_vline(x=0, line_color=NEUTRAL, line_width=1)
    fig.update_yaxes(tickvals=list(range(n_feat)), ticktext=list(labels), autorange="reversed",
                     showgrid=False, zeroline=False)   # no line through the first feature's row
    fig.update_layout(title="Effect of each feature on each customer",
                      xaxis_title="Effect on churn probability (percentage points)",
                      height=max(360, 28 * n_feat + 100), **_LAYOUT)
    return fig


@readable
def dependence(points: pd.DataFrame, feature: str, color_by: str, seed: int = 0) -> go.Figure:
    """A feature's value (x) against its effect in pp (y), coloured by a second feature.

    Input: `explain.dependence_data(expl, feature, color_by)`. Categories on x are spread a
    little (seeded jitter) so overlapping customers stay visible. Drawn in SVG: for the 1,500
    points the page draws, SVG is quicker in Chromium than WebGL, whose set-up alone costs
    0.4-0.7 s without a GPU (measured with plotly.js in headless Chromium).
    """
    col = schema.BY_NAME[feature]
    d = points
    if col.kind in ("integer", "money", "flag01"):
        x = d["x"].astype(float).to_numpy()
        tick = {}
    else:
        cats = list(col.values)
        code = pd.Categorical(d["x"], categories=cats).codes.astype(float)
        x = code + np.random.default_rng(seed).uniform(-0.25, 0.25, len(code))
        tick = dict(tickvals=list(range(len(cats))), ticktext=cats)
    ccol = schema.BY_NAME[color_by]
    if ccol.kind == "category":
        cats = list(ccol.values)
        cbar = dict(title=E.short_label(color_by),
                    tickvals=[i / (len(cats) - 1) for i in range(len(cats))], ticktext=cats)
    elif ccol.kind == "flag01":
        cbar = dict(title=E.short_label(color_by), tickvals=[0, 1], ticktext=["No", "Yes"])
    else:
        cbar = dict(title=E.short_label(color_by), tickvals=[0, 1], ticktext=["lowest", "highest"])
    fig = go.Figure(go.Scatter(
        x=x, y=d["pp"], mode="markers",
        marker=dict(size=5, color=d["colour"], colorscale=COLOURSCALE, cmin=0, cmax=1,
                    opacity=0.7, colorbar=cbar),
        customdata=np.stack([d["x_display"], d["colour_display"]], axis=-1) if len(d) else None,
        hovertemplate=(f"{E.short_label(feature)}: %{{customdata[0]}}<br>"
                       f"{E.short_label(color_by)}: %{{customdata[1]}}<br>"
                       "%{y:+.1f} pp<extra></extra>")))
    fig.add_hline(y=0, line_color=NEUTRAL, line_width=1)
    fig.update_xaxes(title=schema.label(feature), **tick)
    fig.update_layout(title=f"Effect of {E.short_label(feature).lower()} on churn risk",
                      yaxis_title="Effect (percentage points)", height=420, **_LAYOUT)
    return fig


@readable
def segment_rates(rates: pd.DataFrame, feature: str) -> go.Figure:
    """Observed churn rate per segment (bars) and, when present, the model's average predicted
    probability (diamonds), both in percent. Input: `explain.segment_churn_rates` output."""
    fig = go.Figure(go.Bar(
        x=rates["segment"], y=100 * rates["churn_rate"], name="Observed churn rate",
        marker_color=RAISE, customdata=rates["customers"],
        hovertemplate="%{x}<br>%{y:.1f}% churned of %{customdata:,} customers<extra></extra>"))
    if "predicted_rate" in rates:
        fig.add_trace(go.Scatter(
            x=rates["segment"], y=100 * rates["predicted_rate"], mode="markers",
            name="Model's average prediction", marker=dict(symbol="diamond", size=11,
                                                            color="black"),
            hovertemplate="%{x}<br>model: %{y:.1f}%<extra></extra>"))
    fig.update_layout(title=f"Churn rate by {E.short_label(feature).lower()}",
                      xaxis_title=schema.label(feature), yaxis_title="Churn rate (%)",
                      legend=dict(orientation="h", y=-0.25), height=420, **_LAYOUT)
    fig.update_xaxes(type="category")
    return fig
