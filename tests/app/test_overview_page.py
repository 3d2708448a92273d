"""AppTest: the Overview page with a trained model — KPI cards against an independent
computation from the core, segment switching, data sets without Churn or without rows, the
no-model state; and the figure builders of ui.overview_charts."""
from __future__ import annotations

import base64
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from churn import config, ltv, models, schema  # noqa: E402
from churn.config import BusinessSettings  # noqa: E402
from churn.validate import load_customers  # noqa: E402
from ui import overview_charts as oc  # noqa: E402
from ui import state  # noqa: E402
import pagetest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def expected(data_dir) -> dict:
    """Headline figures computed straight from the core, not through the page or the Engine's
    scoring: the active model's probabilities and the survival model's lifetime values, for the
    default data set (the sample's active base: customers still here, aged a month, so new data
    for the model)."""
    from churn.scoring import Engine

    p = config.paths(data_dir)
    df = load_customers(p.active_csv)
    assert "Churn" not in df
    prob = models.load_active(p.models_dir).predict_proba(df)
    survival = Engine.load(p).survival
    value = ltv.clv(survival, df, BusinessSettings())["clv"].to_numpy()
    return {"rows": len(df), "prob": prob, "clv": value,
            "monthly": df["MonthlyCharges"].to_numpy(), "frame": df,
            "history": load_customers(p.customers_csv), "survival": survival}


def _app(batches: dict | None = None, pending: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    if batches is not None:
        at.session_state[state.BATCHES] = batches
        at.session_state[state.PENDING_DATASET] = pending
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _millions(x: float) -> str:
    assert 1e6 <= x < 1e9, x
    return f"${x / 1e6:.2f}M"


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _values(v) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array {"dtype", "bdata" (base64)}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


def test_kpis_match_an_independent_computation(data_dir, expected):
    at = _app()
    m = _metrics(at)
    n, prob, value = expected["rows"], expected["prob"], expected["clv"]
    assert m["Customers"] == f"{n:,}"
    assert m["Churn rate"] == "—"  # an active base: nobody has left yet
    assert any(f"Active base: {n:,} current customers" in c.value for c in at.caption)
    assert m["Predicted churners"] == f"{round(prob.sum()):,}"
    assert m["Customer lifetime value"] == _millions(value.sum())
    assert m["Revenue at risk (profit)"] == _millions((prob * value).sum())
    assert m["Bills at risk, 12 months"] == _millions((prob * 12 * expected["monthly"]).sum())
    helps = {x.label: x.help for x in at.metric}
    assert helps["Revenue at risk (profit)"].endswith(f"Exactly ${(prob * value).sum():,.0f}.")
    assert "over the next 36 months: 60% of each monthly bill" in helps["Customer lifetime value"]
    assert at.selectbox(key="overview_segment").value == "Contract"


def test_on_the_history_risk_figures_count_active_customers_scored_out_of_fold(data_dir,
                                                                              expected):
    """The labelled history: the churn rate is the file's, but predicted churners and revenue at
    risk count only the customers still there (Churn = No), with their out-of-fold scores."""
    from ui.sidebar import DATASET_KEY

    at = _app()
    at.sidebar.selectbox(key=DATASET_KEY).select("sample:sample").run()
    _ok(at)
    m = _metrics(at)
    hist = expected["history"]
    assert m["Customers"] == f"{len(hist):,}"
    assert m["Churn rate"] == f"{hist['Churn'].mean() * 100:.1f}%"
    active = hist[hist["Churn"] == 0]
    version = models.active_version(config.paths(data_dir).models_dir)
    oof = models.load_oof(version, config.paths(data_dir).models_dir).set_index("customerID")
    prob = oof.loc[active["customerID"], f"p_{models.load_active(config.paths(data_dir).models_dir).family}"].to_numpy()
    value = ltv.clv(expected["survival"], active, BusinessSettings())["clv"].to_numpy()
    assert m["Predicted churners"] == f"{round(prob.sum()):,}"
    helps = {x.label: x.help for x in at.metric}
    assert helps["Revenue at risk (profit)"].endswith(f"Exactly ${(prob * value).sum():,.0f}.")
    assert any("History (labelled)" in c.value and f"use the {len(active):,} still active" in c.value
               for c in at.caption)


def test_settings_change_the_value_figures(data_dir, expected):
    at = _app()
    before = _metrics(at)["Customer lifetime value"]
    at.sidebar.slider(key="sidebar.settings.margin").set_value(30).run()
    _ok(at)
    after = _metrics(at)
    assert after["Customer lifetime value"] == _millions(expected["clv"].sum() / 2)
    assert after["Customer lifetime value"] != before
    assert after["Predicted churners"] == f"{round(expected['prob'].sum()):,}"  # not a money figure


@pytest.mark.parametrize("by", ltv.SEGMENTS)
def test_segment_switch_redraws_both_charts(data_dir, expected, by):
    at = _app()
    at.selectbox(key="overview_segment").select(by).run()
    _ok(at)
    km, risk = _charts(at)
    df = expected["frame"]
    groups = (pd.Series(ltv.tenure_band(df["tenure"])) if by == "tenure band" else df[by])
    hist = expected["history"]  # an active base has no outcomes: the curves are the history's
    hist_groups = (pd.Series(ltv.tenure_band(hist["tenure"])) if by == "tenure band"
                   else hist[by])
    names = [t["name"] for t in km["data"] if t.get("name")]
    assert sorted(names) == sorted(hist_groups.unique())
    assert km["layout"]["legend"]["title"]["text"] == oc.SEGMENT_LABELS[by]
    bars = risk["data"][0]
    assert sorted(bars["x"]) == sorted(groups.unique())
    # the bars add up to the revenue-at-risk card
    total = float(np.sum(_values(bars["y"])))
    assert total == pytest.approx((expected["prob"] * expected["clv"]).sum(), rel=1e-9)


def test_batch_without_churn_shows_training_curves(data_dir, expected):
    batch = expected["frame"].head(40).reset_index(drop=True)
    at = _app({"April": batch}, "batch:April")
    m = _metrics(at)
    assert (m["Customers"], m["Churn rate"]) == ("40", "—")
    assert any("the curves show the training customers (the sample data)" in i.value
               for i in at.info)
    km, _risk = _charts(at)
    # the curves are the sample's: their first step matches the sample's Kaplan-Meier table
    curves = ltv.km_curves(expected["history"], "Contract")
    first = curves[curves["segment"] == "Month-to-month"]["survival"].to_numpy()
    drawn = next(t for t in km["data"] if t.get("name") == "Month-to-month")
    assert _values(drawn["y"]) == pytest.approx(first)


def test_empty_batch_shows_an_empty_state(data_dir):
    at = _app({"Nobody": schema.empty_frame()}, "batch:Nobody")
    assert any("This data set has no customers to show" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_a_first_start_trains_then_shows_the_model_figures(data_dir, tmp_path, monkeypatch):
    shutil.copytree(config.paths(data_dir).sample_dir, config.paths(tmp_path).sample_dir)
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path))
    at = _app()  # the conftest's small first-start training keeps this to seconds
    assert (tmp_path / "models").exists()
    assert "Predicted churners" in _metrics(at)
    assert len(at.get("plotly_chart")) == 2  # retention curves and revenue at risk


# --- figure builders ------------------------------------------------------------------------------
def test_km_figure_has_a_band_and_a_line_per_segment():
    curves = pd.DataFrame({"segment": ["A", "A", "B", "B"], "timeline": [0.0, 5.0, 0.0, 5.0],
                           "survival": [1.0, 0.8, 1.0, 0.6], "ci_lower": [1.0, 0.7, 1.0, 0.5],
                           "ci_upper": [1.0, 0.9, 1.0, 0.7]})
    fig = oc.km_figure(curves, "Group")
    assert len(fig.data) == 6
    lines = [t for t in fig.data if t.name]
    assert [t.name for t in lines] == ["A", "B"]
    assert list(lines[1].y) == [1.0, 0.6]
    assert fig.data[1].fill == "tonexty" and list(fig.data[1].y) == [1.0, 0.7]
    assert fig.layout.yaxis.tickformat == ".0%"


def test_risk_figure_labels_bars_in_dollars():
    table = pd.DataFrame({"segment": ["One", "Two"], "customers": [10, 20],
                          "avg_churn_prob": [0.2, 0.4], "predicted_churners": [2.0, 8.0],
                          "clv": [1000.0, 2000.0], "revenue_at_risk": [1500.0, 2_500_000.0],
                          "risk_share": [0.0006, 0.9994]})
    fig = oc.risk_figure(table, "Group")
    bar = fig.data[0]
    assert list(bar.x) == ["One", "Two"]
    assert list(bar.text) == ["$1.5K", "$2.50M"]
    assert list(bar.customdata[1]) == ["20", "40.0%", "99.9%", "$2,500,000"]


def test_a_saved_batch_is_summed_in_the_store_never_loaded(data_dir, monkeypatch):
    """A saved labelled batch: the first visit builds its scored list in the store; a later
    session shows every figure (the sidebar's too) with loading the batch made impossible, equal
    to the core's own computation on the frame."""
    from churn.scoring import Engine
    from churn.store import Store
    from churn.synth import generate_customers

    batch = generate_customers(400, 91)
    Store(config.paths(data_dir).store).save_batch("april", batch, kind="upload")
    _app({}, "saved:april")                                    # builds the list once

    pagetest.forbid_loading(monkeypatch)
    at = _app({}, "saved:april")
    m = _metrics(at)
    summary = ltv.data_summary(batch)
    assert m["Customers"] == "400"
    assert m["Churn rate"] == f"{summary.churn_rate * 100:.1f}%"
    active = batch[batch["Churn"] == 0]
    table = Engine.load(config.paths(data_dir)).score(active)
    helps = {x.label: x.help for x in at.metric}
    assert m["Predicted churners"] == f"{round(table['churn_prob'].sum()):,}"
    assert helps["Revenue at risk (profit)"].endswith(
        f"Exactly ${table['revenue_at_risk'].sum():,.0f}.")
    assert helps["Customer lifetime value"].endswith(f"Exactly ${table['clv'].sum():,.0f}.")
    left = len(batch) - len(active)
    assert any(f"History (labelled): 400 customers, of whom {left:,} have left" in c.value
               for c in at.sidebar.caption)
    at.selectbox(key="overview_segment").select("tenure band").run()
    _ok(at)
