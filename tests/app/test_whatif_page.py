"""AppTest: the "Customer what-if" page with a trained model.

Runs the real app on a data folder of its own (sample + a quickly trained logistic regression),
so the shared session folder keeps having no model for the other page tests.
"""
from __future__ import annotations

import html
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402
import pagetest  # noqa: E402

from churn import explain as E  # noqa: E402
from churn import schema  # noqa: E402

PAGE = "app_pages/3_Customer_what_if.py"


@pytest.fixture
def at(data_dir) -> AppTest:
    return open_page(PAGE)


def _metric(app: AppTest, label: str):
    return next(m for m in app.metric if m.label == label)


def _prob(app: AppTest) -> float:
    return float(_metric(app, "Churn probability").value.rstrip("%"))


def test_page_shows_the_highest_risk_customer_with_reasons(at):
    cust = at.selectbox(key="whatif_customer").value
    top = at.selectbox(key="whatif_top")
    assert top.options[0].startswith(f"{cust} · ")
    assert not _metric(at, "Churn probability").delta  # nothing changed yet
    assert at.slider(key="whatif_tenure").value >= 0
    sentences = [m.value for m in at.markdown if "churn risk by" in m.value]
    assert sentences and "raises the churn risk by" in sentences[0]
    # the waterfall (HTML, issue 18) ends at the probability the card shows
    chart = next(h.proto.body for h in at.get("html") if "wf-grid" in h.proto.body)
    assert f'<div class="wf-note">{html.escape(E.UNIT_NOTE)}</div>' in chart  # under the bars
    assert "Why this customer&#x27;s risk is what it is" in chart
    final = chart.rsplit('class="wf-value wf-total">', 1)[1].split("<", 1)[0]
    assert final == _metric(at, "Churn probability").value
    keys = {w.key for w in at.selectbox} | {w.key for w in at.slider}
    for f in schema.EDITABLE_FEATURES:
        if f != "TotalCharges":
            assert f"whatif_{f}" in keys, f


def test_longer_tenure_and_two_year_contract_lower_the_probability(at):
    before = _prob(at)
    tenure = at.slider(key="whatif_tenure")
    tenure.set_value(min(tenure.max, tenure.value + 36))
    at.selectbox(key="whatif_Contract").set_value("Two year")
    at.run()
    _ok(at)
    after = _prob(at)
    assert after < before
    delta = _metric(at, "Churn probability").delta
    assert delta.startswith("-") and delta.endswith(" pp")
    table = _table(at, "What-if value")
    assert {"Tenure (months)", "Contract", "Total charges ($)"} <= set(table["Feature"])
    row = table.set_index("Feature").loc["Contract"]
    assert row["What-if value"] == "Two year" and row["Real value"] != "Two year"
    assert any(e.label.startswith(f"Real vs changed ({len(table)} of ") for e in at.expander)

    at.button(key="whatif_reset").click().run()
    _ok(at)
    assert _prob(at) == before
    assert not _metric(at, "Churn probability").delta


def test_internet_off_hides_the_add_ons(at):
    at.selectbox(key="whatif_InternetService").set_value("No").run()
    _ok(at)
    sec = at.selectbox(key="whatif_OnlineSecurity")
    assert sec.options == ["No internet service"] and sec.value == "No internet service"
    at.selectbox(key="whatif_InternetService").set_value("DSL").run()
    _ok(at)
    sec = at.selectbox(key="whatif_OnlineSecurity")
    assert sec.options == ["No", "Yes"] and sec.value == "No"


def test_pick_from_the_highest_risk_list(at):
    at.slider(key="whatif_tenure").set_value(0).run()  # a change on the first customer
    top = at.selectbox(key="whatif_top")
    second = top.options[1].split(" · ")[0]  # options are shown formatted; set the raw ID
    top.set_value(second).run()
    _ok(at)
    assert at.selectbox(key="whatif_customer").value == second
    # the form now holds the second customer's real values: nothing is changed
    assert not _metric(at, "Churn probability").delta
    assert any(e.label.startswith("Real vs changed (0 of ") for e in at.expander)
    assert not any("What-if value" in t.columns for t in _html_tables(at))


class _HtmlTables(HTMLParser):
    """The <table>s of an HTML string as DataFrames (header row, then the cells' text)."""

    def __init__(self):
        super().__init__()
        self.tables, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.tables[-1].append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _html_tables(app: AppTest) -> list[pd.DataFrame]:
    out = []
    for h in app.get("html"):
        parser = _HtmlTables()
        parser.feed(h.proto.body)
        out += [pd.DataFrame(t[1:], columns=t[0]) for t in parser.tables if t]
    return out


def _table(app: AppTest, column: str):
    """The first table (a grid, a static table or an HTML table) with that column."""
    return next(t for t in [*(d.value for d in [*app.dataframe, *app.table]),
                            *_html_tables(app)] if column in t.columns)


def test_leaving_for_another_page_and_coming_back_keeps_the_form(at):
    """Issue 17: Streamlit drops the state of widgets not drawn on the last run; coming back
    to the what-if page said "Something went wrong" (KeyError 'whatif_gender')."""
    second = at.selectbox(key="whatif_top").options[1].split(" · ")[0]
    at.selectbox(key="whatif_top").set_value(second).run()
    at.slider(key="whatif_tenure").set_value(5).run()
    at.toggle(key="whatif_sweep_on").set_value(True).run()
    at.selectbox(key="whatif_sweep_feature").set_value("Contract").run()
    at.slider(key="whatif_depth").set_value(4).run()
    _ok(at)
    # the chart's controls sit in a pop-over whose label says what they are set to
    assert "Chart: 4 drivers, largest effect first" in [p.proto.popover.label
                                                        for p in at.get("popover")]
    prob = _prob(at)
    for other in ("app_pages/1_Overview.py", "app_pages/4_Retention_campaign.py",
                  "app_pages/6_Model_report.py"):
        at.switch_page(other).run()
        _ok(at)
        at.switch_page(PAGE).run()
        _ok(at)
        assert at.selectbox(key="whatif_customer").value == second
        assert at.slider(key="whatif_tenure").value == 5
        assert at.selectbox(key="whatif_sweep_feature").value == "Contract"
        assert at.slider(key="whatif_depth").value == 4
        assert _prob(at) == prob
        assert _metric(at, "Churn probability").delta  # still the edited customer


def test_offers_table_says_why_each_offer_ranks_where_it_does(at):
    from churn.config import BusinessSettings
    from churn.scoring import Engine

    offers = _table(at, "Why this rank")
    # the sample has a campaign history, so each offer's effect is learned or assumed (Basis)
    assert list(offers.columns[:9]) == ["Rank", "Offer", "Expected net value", "Why this offer",
                                        "Why this rank", "Basis", "Risk change", "Cost",
                                        "Chance of acceptance"]
    assert set(offers["Basis"]) <= {"learned", "assumed"}
    assert offers["Why this rank"].str.contains("ranks on").all()
    # the "no offer is worth making" message appears exactly when every net value is ≤ $0
    from churn.campaign import SLEEPING_DOG_REASON
    from churn.config import paths
    from churn.validate import load_customers

    cust = at.selectbox(key="whatif_customer").value
    eng = Engine.load()
    active = load_customers(paths().active_csv)          # the app shows the active base
    row = active[active["customerID"] == cust]
    assert len(row) == 1
    view = eng.customer_view(row, BusinessSettings())
    if view.offers["sleeping_dog"].any():                # a sleeping dog: that reason instead
        assert [w.value for w in at.warning if w.value == SLEEPING_DOG_REASON]
        return
    worth = (view.offers["expected_net_value"] > 0).any()
    warned = any("No offer is worth making" in w.value for w in at.warning)
    assert warned == (not worth)


def test_sweep_section_draws_for_every_kind_of_feature(at):
    assert not at.toggle(key="whatif_sweep_on").value  # off by default: the plain what-if
    assert not any(w.key == "whatif_sweep_feature" for w in at.selectbox)
    at.toggle(key="whatif_sweep_on").set_value(True).run()
    for feature in ("tenure", "Contract", "SeniorCitizen", "OnlineSecurity", "MonthlyCharges"):
        at.selectbox(key="whatif_sweep_feature").set_value(feature).run()
        _ok(at)
        lines = [m.value for m in at.markdown if "offer" in m.value and m.value.startswith("- ")]
        assert any("pays most at" in t or "makes any offer worth making" in t for t in lines)
    at.selectbox(key="whatif_InternetService").set_value("No").run()
    at.selectbox(key="whatif_sweep_feature").set_value("OnlineSecurity").run()
    _ok(at)
    assert any("needs internet service" in i.value for i in at.info)


def test_pin_compare_and_unpin(at):
    at.button(key="whatif_pin").click().run()
    _ok(at)
    cust = at.selectbox(key="whatif_customer").value
    t = _table(at, f"1. {cust}")
    assert list(t.columns) == [f"1. {cust}"]
    assert list(t.index[:8]) == ["Churn probability", "Risk tier", "Lifetime value",
                                 "Top driver 1", "Top driver 2", "Top driver 3", "Best offer",
                                 "Best offer's net value"]
    assert t.loc["Churn probability"].iloc[0] == _metric(at, "Churn probability").value
    at.selectbox(key="whatif_Contract").set_value("Two year").run()
    at.button(key="whatif_pin").click().run()
    _ok(at)
    t = _table(at, f"1. {cust}")
    assert list(t.columns) == [f"1. {cust}", f"2. {cust} (edited)"]
    assert t.loc["Contract"].tolist() == [t.loc["Contract"].iloc[0], "Two year"]
    assert t.loc["Churn probability"].iloc[1] == _metric(at, "Churn probability").value
    # pinning the same values twice adds nothing
    at.button(key="whatif_pin").click().run()
    assert list(_table(at, f"1. {cust}").columns) == [f"1. {cust}", f"2. {cust} (edited)"]
    # up to four: then the button is disabled
    for tenure in (40, 50):  # far from any top-risk customer's own tenure
        at.slider(key="whatif_tenure").set_value(tenure).run()
        at.button(key="whatif_pin").click().run()
    assert len(_table(at, f"1. {cust}").columns) == 4
    assert at.button(key="whatif_pin").disabled
    at.button(key="whatif_unpin_0").click().run()
    _ok(at)
    t = _table(at, f"1. {cust} (edited)")  # the real customer is gone; the rest move up
    assert list(t.columns) == [f"{i}. {cust} (edited)" for i in (1, 2, 3)]
    assert "Contract" not in t.index  # the same for all three now: not listed
    assert "Tenure (months)" in t.index
    assert not at.button(key="whatif_pin").disabled
    for _ in range(3):
        at.button(key="whatif_unpin_0").click().run()
    _ok(at)
    assert not any(f"1. {cust}" in str(d.value.columns) for d in at.dataframe)


# --- the what-if UI helpers (pure functions, no app run) -------------------------------------
def test_offers_table_keeps_columns_it_does_not_know():
    import pandas as pd

    from ui import whatif_results

    ranked = pd.DataFrame({
        "customerID": ["A", "A"], "rank": [1, 2], "offer_id": ["x", "y"],
        "offer_name": ["Loyalty credit", "Autopay incentive"], "offer_cost": [20.0, 10.0],
        "p_accept": [0.4412, 0.3], "rule_reason": ["Tenure is 1 month: …", ""],
        "from_rules": [True, False], "expected_saved_value": [68.0, 50.0],
        "expected_net_value": [48.0, 40.0], "ranking_score": [48.0, 30.0],
        "acceptance_source": ["learned", "assumed"]})  # e.g. a column another branch adds
    t = whatif_results.offers_table(ranked)
    assert list(t.columns) == ["Rank", "Offer", "Expected net value", "Why this offer",
                               "Why this rank", "Cost", "Chance of acceptance",
                               "Acceptance source"]
    assert t["Acceptance source"].tolist() == ["learned", "assumed"]
    assert t["Expected net value"].tolist() == ["$48", "$40"]
    assert t["Chance of acceptance"].tolist() == ["44.1%", "30.0%"]
    assert t["Why this offer"].tolist() == ["Tenure is 1 month: …",
                                            "Similar customers accepted it"]
    assert t["Why this rank"].tolist() == ["Rule-backed: ranks on $48",
                                           "No rule: ranks on $30 (saving × 80%)"]


def test_sweep_figure_marks_the_current_value_and_carries_values_for_clicks():
    import pandas as pd

    from ui import whatif_charts

    sw = pd.DataFrame({"feature": "Contract",
                       "value": ["Month-to-month", "One year", "Two year"],
                       "value_display": ["Month-to-month", "One year", "Two year"],
                       "is_current": [False, True, False], "churn_prob": [0.5, 0.3, 0.1],
                       "risk_tier": ["High", "Medium", "Low"], "clv": [500.0, 800.0, 1200.0],
                       "offer_id": ["a", "b", ""], "offer_name": ["A", "B", ""],
                       "offer_net_value": [12.0, -3.0, float("nan")],
                       "offer_worth_making": [True, False, False]})
    curve = pd.DataFrame({"value": sw["value"], "value_display": sw["value_display"],
                          "churn_prob": [0.4, 0.25, 0.15], "customers": [300] * 3})
    fig = whatif_charts.sweep_figure(sw, curve)
    pd_trace, prob, clv, offer = fig.data
    assert list(pd_trace.y) == [40.0, 25.0, 15.0] and pd_trace.opacity < 0.5
    assert list(prob.y) == [50.0, 30.0, 10.0] and list(clv.y) == [500.0, 800.0, 1200.0]
    assert [c[0] for c in prob.customdata] == ["Month-to-month", "One year", "Two year"]
    assert list(prob.marker.size) == [7, 13, 7]  # the current value is the big point
    assert list(offer.marker.color) == [whatif_charts.WORTH, whatif_charts.NOT_WORTH,
                                        whatif_charts.NOT_WORTH]
    assert any(a.text == "now: One year" for a in fig.layout.annotations)
    # built without Plotly's validation: what the browser gets must still be a whole figure
    spec = fig.to_dict()
    assert [t["xaxis"] + t["yaxis"] for t in spec["data"]] == ["xy", "xy", "x2y2", "x3y3"]
    assert spec["layout"]["template"]["layout"]["plot_bgcolor"] == "white"  # expanded, not a name
    assert [a["text"] for a in spec["layout"]["annotations"]] == [
        *whatif_charts.PANELS, "now: One year"]
    lines = spec["layout"]["shapes"]
    assert lines[0] == {"type": "line", "xref": "x3 domain", "x0": 0, "x1": 1, "yref": "y3",
                        "y0": 0, "y1": 0, "line": {"color": whatif_charts.NEUTRAL, "width": 1}}
    assert [(s["xref"], s["x0"], s["yref"]) for s in lines[1:]] == [
        ("x", 1, "y domain"), ("x2", 1, "y2 domain"), ("x3", 1, "y3 domain")]  # "One year"
    assert spec["layout"]["xaxis3"]["categoryarray"] == list(sw["value"])
    assert spec["layout"]["xaxis"]["matches"] == "x3"  # one x axis for the three panels
    assert (spec["layout"]["yaxis"]["ticksuffix"], spec["layout"]["yaxis2"]["tickformat"]) == (
        "%", "$,.0f")
    assert spec["layout"]["font"] == {"size": 13, "color": "#31333F"}  # `readable` applied
    import plotly.graph_objects as go

    assert go.Figure(spec).to_dict() == spec  # Plotly's own validation accepts every part


def test_compare_table_highlights_differences_from_the_first_customer():
    import pandas as pd

    from churn import schema
    from ui import whatif_compare

    base = {f: "No" for f in schema.FEATURES}
    prof = pd.DataFrame([
        {"label": "A", "churn_prob": 0.5, "risk_tier": "High", "clv": 900.0,
         "driver_1": "Tenure: 1 month (+17.5 pp)", "driver_2": "", "driver_3": "",
         "offer_name": "X", "offer_net_value": 48.0, **base, "tenure": 1},
        {"label": "A (edited)", "churn_prob": 0.3, "risk_tier": "High", "clv": 950.0,
         "driver_1": "Tenure: 1 month (+17.5 pp)", "driver_2": "", "driver_3": "",
         "offer_name": "X", "offer_net_value": 48.0, **base, "tenure": 30}])
    shown, mask = whatif_compare.table(prof)
    assert list(shown.columns) == ["1. A", "2. A (edited)"]
    assert shown.loc["Churn probability"].tolist() == ["50.0%", "30.0%"]
    assert shown.loc["Tenure (months)"].tolist() == ["1 month", "30 months"]
    assert "Gender" not in shown.index  # the same for both: not listed
    assert mask.loc["Churn probability"].tolist() == [False, True]
    assert mask.loc["Risk tier"].tolist() == [False, False]
    assert shown.loc["Top driver 2"].tolist() == ["—", "—"]


def test_no_full_garbage_collection_after_each_run_and_the_engine_is_frozen(at):
    """Issue 18: Streamlit's full collection after every script run walked the loaded models,
    150-300 ms of each what-if redraw. It is off in the app's config, and the objects alive when
    the engine has loaded are frozen out of Python's own collections (`settle_heap`)."""
    import gc
    import tomllib

    from ui import context

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    _ok(at)
    assert gc.get_freeze_count() > 10_000  # the page loaded the engine, then froze the heap
    before = gc.get_freeze_count()
    survivor = [object() for _ in range(1000)]
    cycle = []
    cycle.append(cycle)  # garbage with a cycle, only a collection frees it
    del cycle
    context.settle_heap()
    assert gc.get_freeze_count() >= before + 1000 and gc.garbage == []
    del survivor


def test_a_saved_batch_is_picked_from_the_store_never_loaded(data_dir, monkeypatch):
    """A saved history: the highest-risk list comes from its stored customer list, only the
    customers still here are offered, and the chosen customer's row is fetched by ID; the batch
    is never loaded whole (its list is built once first, as the Customers page does)."""
    from churn import config, synth
    from churn.scoring import Engine

    batch = synth.generate_customers(300, 44)
    at = pagetest.open_saved(PAGE, config.paths(data_dir).store, "may", batch, monkeypatch)
    active = batch[batch["Churn"] == 0]
    scores = Engine.load(config.paths(data_dir)).score(active)
    want = scores.sort_values(["churn_prob", schema.ID], ascending=[False, True])
    pick = at.selectbox(key="whatif_customer")
    assert pick.value == want[schema.ID].iloc[0]
    assert set(pick.options) == set(active[schema.ID])           # nobody who has left
    assert at.selectbox(key="whatif_top").options[0].startswith(f"{want[schema.ID].iloc[0]} · ")
    other = want[schema.ID].iloc[5]
    pick.set_value(other).run()
    _ok(at)
    row = active[active[schema.ID] == other].iloc[0]
    assert at.slider(key="whatif_tenure").value == row["tenure"]
    assert _prob(at) == pytest.approx(
        round(float(scores.loc[row.name, "churn_prob"]) * 100, 1), abs=0.051)


def test_choosing_a_large_saved_batch_starts_from_its_highest_risk_customer(data_dir,
                                                                           monkeypatch):
    """From the sample to a saved batch too large to list (the ID is typed): the picker
    starts from the batch's highest-risk customer, not the sample's customer (a screenshot at a
    million showed an empty ID and a warning)."""
    from churn import config, synth
    from churn.store import Store
    from ui import explain_cache
    from ui.sidebar import DATASET_KEY

    batch = synth.generate_customers(300, 46).drop(columns=["Churn"])
    Store(config.paths(data_dir).store).save_batch("july", batch, kind="upload")
    at = open_page(PAGE, timeout=300)
    sample_pick = at.selectbox(key="whatif_customer").value      # the sample: listed
    monkeypatch.setattr(explain_cache, "SELECT_LIMIT", 100)       # the batch: typed
    at.sidebar.selectbox(key=DATASET_KEY).select("saved:july").run()
    _ok(at)
    top = at.selectbox(key="whatif_top").options[0].split(" · ")[0]
    assert top in set(batch["customerID"]) and top != sample_pick
    assert at.text_input(key="whatif_customer").value == top
    assert not at.warning
