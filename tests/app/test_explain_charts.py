"""The explanation pages' Plotly figures, checked against the tables they draw."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _explain_fakes import LinearChurnModel, make_customers  # noqa: E402

from churn import explain as E  # noqa: E402
from ui import explain_charts as charts  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return make_customers(400, seed=4)


@pytest.fixture(scope="module")
def expl(data):
    return E.explain(LinearChurnModel().fit(data), data)


def test_importance_bar(expl):
    imp = E.global_importance(expl)
    fig = charts.importance_bar(imp)
    bar = fig.data[0]
    assert bar.type == "bar" and bar.orientation == "h"
    # Plotly draws the first y category at the bottom: the most important comes last.
    assert list(bar.y) == imp["label"].tolist()[::-1]
    assert list(bar.x) == imp["mean_abs_pp"].tolist()[::-1]
    assert "percentage points" in fig.layout.xaxis.title.text
    assert len(charts.importance_bar(imp, top=5).data[0].y) == 5


def test_beeswarm(expl):
    """Every point of `beeswarm_points` is drawn once, on its feature's row, with no per-point
    text: numeric features are one trace (hover formats the value from a numeric array),
    categorical ones a trace per category that names it in its hover template."""
    from churn import global_explain as G
    from churn import schema

    pts = G.beeswarm_points(expl, customers=100)
    fig = charts.beeswarm(pts)
    assert sum(len(t.x) for t in fig.data) == len(pts) == 100 * 19
    assert all(t.type == "scattergl" and t.text is None and t.hovertext is None
               for t in fig.data)
    labels = E.global_importance(expl)["label"].tolist()
    assert list(fig.layout.yaxis.ticktext) == labels
    n_traces = sum(1 if schema.BY_NAME[f].kind in G.NUMERIC_KINDS else
                   pts.loc[pts["feature"] == f, "category"].nunique() for f in schema.FEATURES)
    assert len(fig.data) == n_traces
    tenure = pts[pts["feature"] == "tenure"]
    (t,) = [t for t in fig.data if t.hovertemplate.startswith("Tenure = ")]
    np.testing.assert_allclose(t.x, tenure["pp"], rtol=1e-6)
    np.testing.assert_allclose(t.y, tenure["order"] + tenure["jitter"], rtol=1e-6)
    np.testing.assert_allclose(t.customdata, tenure["number"])
    np.testing.assert_allclose(t.marker.color, tenure["colour"])
    assert t.hovertemplate == "Tenure = %{customdata:,.0f} months<br>%{x:+.1f} pp<extra></extra>"
    assert t.marker.showscale      # the colour key, once
    assert sum(bool(t.marker.showscale) for t in fig.data) == 1
    contract = pts[(pts["feature"] == "Contract") & (pts["category"] == "Two year")]
    (c,) = [t for t in fig.data if t.hovertemplate.startswith("Contract = Two year<br>")]
    np.testing.assert_allclose(sorted(c.x), sorted(contract["pp"]), rtol=1e-6)
    assert c.marker.color == charts._scale_colour(1.0) == "rgb(180,4,38)"
    assert charts._scale_colour(0.0) == "rgb(59,76,192)"
    assert charts._scale_colour(0.5) == "rgb(221,221,221)"
    assert charts.beeswarm(pts, webgl=False).data[0].type == "scatter"
    top = charts.beeswarm(pts, top=4)
    assert sum(len(t.x) for t in top.data) == 100 * 4
    assert list(top.layout.yaxis.ticktext) == labels[:4]


def test_beeswarm_json_is_small_at_full_size(expl):
    """The chart's data is numbers only: 500 customers fit in well under 200 kB of JSON (the
    earlier chart of 1,000 customers with per-point hover text was 1.2 MB)."""
    from churn import global_explain as G

    big = E.explain(LinearChurnModel().fit(make_customers(2_000, seed=5)),
                    make_customers(2_000, seed=5))
    fig = charts.beeswarm(G.beeswarm_points(big))
    assert sum(len(t.x) for t in fig.data) == 500 * 19
    assert len(fig.to_json()) < 200_000


def test_dependence_numeric_and_categorical(expl):
    d = E.dependence_data(expl, "tenure", "Contract")
    fig = charts.dependence(d, "tenure", "Contract")
    assert list(fig.data[0].x) == d["x"].tolist()
    assert list(fig.data[0].y) == d["pp"].tolist()
    assert list(fig.data[0].marker.colorbar.ticktext) == ["Month-to-month", "One year", "Two year"]
    c = E.dependence_data(expl, "Contract", "tenure")
    fig = charts.dependence(c, "Contract", "tenure")
    codes = c["x"].map({"Month-to-month": 0, "One year": 1, "Two year": 2}).to_numpy()
    assert np.all(np.abs(np.asarray(fig.data[0].x) - codes) <= 0.25)
    assert list(fig.layout.xaxis.ticktext) == ["Month-to-month", "One year", "Two year"]


def test_segment_rates(data, expl):
    r = E.segment_churn_rates(data, "Contract", prob=expl.prob)
    fig = charts.segment_rates(r, "Contract")
    assert [t.type for t in fig.data] == ["bar", "scatter"]
    np.testing.assert_allclose(fig.data[0].y, 100 * r["churn_rate"])
    np.testing.assert_allclose(fig.data[1].y, 100 * r["predicted_rate"])
    only = charts.segment_rates(E.segment_churn_rates(data, "Contract"), "Contract")
    assert len(only.data) == 1


def test_every_figure_gets_readable_text():
    """Issue 16: chart text was light grey at 10 px; `ui.chart_style.readable` gives every
    builder's figure dark 13 px text (12 px ticks) unless the builder chose its own."""
    import plotly.graph_objects as go

    from ui.chart_style import TEXT, readable

    @readable
    def build():
        fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
        fig.update_layout(title="t", font=dict(size=15))
        fig.update_yaxes(title_font=dict(color="red"))
        return fig

    fig = build()
    assert (fig.layout.font.size, fig.layout.font.color) == (15, TEXT)   # its own size stands
    assert (fig.layout.xaxis.tickfont.size, fig.layout.xaxis.tickfont.color) == (12, TEXT)
    assert (fig.layout.yaxis.title.font.size, fig.layout.yaxis.title.font.color) == (13, "red")
    assert fig.layout.legend.font.color == TEXT
