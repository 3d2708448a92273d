"""AppTest: the "Why customers churn" page with a trained model (its own data folder)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402
import pagetest  # noqa: E402

from churn import explain as E  # noqa: E402

PAGE = "app_pages/2_Why_customers_churn.py"


@pytest.fixture
def at(data_dir) -> AppTest:
    return open_page(PAGE)


def _charts(app: AppTest) -> list:
    return app.get("plotly_chart")


def test_charts_each_with_its_unit_note_and_the_per_customer_view_built_when_opened(at, data_dir):
    from churn import config
    from churn.validate import load_customers

    assert [t.label for t in at.tabs] == ["Average effect of each feature",
                                         "Effect on each customer"]
    # the first tab is open: its chart and the feature section's two; the per-customer chart
    # (the costliest for the browser) is not built until its tab is opened
    assert len(_charts(at)) == 3
    notes = [c.value for c in at.caption if E.UNIT_NOTE in c.value]
    assert len(notes) == 2  # importance, dependence
    assert any("share of customers in each segment who actually churned" in c.value
               for c in at.caption)
    assert any(c.value == "Explaining all 7,043 customers." for c in at.caption)
    # the sample's active base is chosen (the default): the page explains the history instead,
    # and says which customers the other pages' figures are about (the sidebar's count)
    active_base = len(load_customers(config.paths(data_dir).active_csv))
    history = load_customers(config.paths(data_dir).customers_csv)
    left = int((history["Churn"] == 1).sum())
    assert any(c.value == (f"Explained on the labelled history the model learned from: "
                           f"{len(history):,} customers, of whom {left:,} have left. Risk figures "
                           f"and campaigns use the chosen active base ({active_base:,} current "
                           "customers).") for c in at.caption)
    at.session_state["why_chart_tab"] = "Effect on each customer"
    at.run()
    _ok(at)
    assert len(_charts(at)) == 3  # beeswarm, dependence, segments
    notes = [c.value for c in at.caption if E.UNIT_NOTE in c.value]
    assert len(notes) == 2 and notes[0].startswith("Each dot is a customer: 500 of the 7,043")


def test_feature_and_colour_choices(at, data_dir):
    from churn import config, models, schema
    from churn.validate import load_customers

    p = config.paths(data_dir)
    expl = E.explain(models.load_active(p.models_dir), load_customers(p.customers_csv))
    ranked = E.global_importance(expl)["feature"].tolist()
    feature = at.selectbox(key="why_feature")
    # features are offered most important first; the first is chosen at the start
    assert feature.options == [schema.label(f) for f in ranked]
    assert feature.value == ranked[0]
    # the colour box never offers the chosen feature itself
    assert at.selectbox(key="why_color_by").value == ranked[1]
    assert schema.label(ranked[0]) not in at.selectbox(key="why_color_by").options
    feature.set_value("tenure").run()
    _ok(at)
    at.selectbox(key="why_color_by").set_value("Contract").run()
    _ok(at)
    assert len(_charts(at)) == 3
    assert at.selectbox(key="why_feature").value == "tenure"


def test_large_batch_without_outcomes_is_sampled(at):
    from churn import synth
    from ui import state

    batch = synth.generate_customers(12_000, 7).drop(columns=["Churn"])
    at.session_state[state.BATCHES] = {"Big": batch}
    at.session_state[state.PENDING_DATASET] = "batch:Big"
    at.run()
    _ok(at)
    size = at.number_input(key="why_sample_size")
    assert size.value == 10_000
    assert any(c.value == ("Explained on a random 10,000 of 12,000 customers (the same "
                          "customers every time); the charts below describe them.")
               for c in at.caption)
    assert any("need the Churn column" in i.value for i in at.info)
    assert len(_charts(at)) == 2  # importance, dependence: no observed churn rates
    size.set_value(2_000).run()
    _ok(at)
    assert any(c.value.startswith("Explained on a random 2,000 of 12,000 customers")
               for c in at.caption)


def test_a_large_saved_batch_is_explained_on_a_sample_fetched_from_the_store(data_dir,
                                                                           monkeypatch):
    """A saved history above the sample size: only the explained customers (a repeatable
    random sample, chosen in SQL) leave the store; the rest are never loaded."""
    from churn import config, synth
    from churn.store import Store
    from ui import explain_cache, state

    store = Store(config.paths(data_dir).store)
    store.save_batch("big history", synth.generate_customers(12_000, 8), kind="upload")

    pagetest.forbid_loading(monkeypatch)
    seen = []
    real = explain_cache.global_explanation
    monkeypatch.setattr(explain_cache, "global_explanation",
                        lambda model, df, *a: seen.append(df) or real(model, df, *a))
    app = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"),
                            default_timeout=300)
    app.session_state[state.PENDING_DATASET] = "saved:big history"
    app.run()
    app.switch_page(PAGE).run()
    _ok(app)
    app.number_input(key="why_sample_size").set_value(1_500).run()
    _ok(app)
    assert any(c.value == ("Explained on a random 1,500 of 12,000 customers (the same "
                           "customers every time); the charts below describe them.")
               for c in app.caption)
    assert any("History (labelled): 12,000 customers" in c.value for c in app.caption)
    assert len(_charts(app)) == 3  # the first tab's, and the feature section's two
    explained = seen[-1]
    want = store.sample_batch("big history", 1_500, seed=0).drop(columns="row", errors="ignore")
    assert explained["customerID"].tolist() == want["customerID"].tolist()
