"""AppTest: the "Customer what-if" page with a trained model.

Runs the real app on a data folder of its own (sample + a quickly trained logistic regression),
so the shared session folder keeps having no model for the other page tests.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402

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
    assert any(E.UNIT_NOTE in c.value for c in at.caption)
    sentences = [m.value for m in at.markdown if "churn risk by" in m.value]
    assert sentences and "raises the churn risk by" in sentences[0]
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
    table = next(d.value for d in at.dataframe if "changed_flag" in d.value.columns)
    changed = set(table.loc[table["changed_flag"], "label"])
    assert {"Tenure (months)", "Contract", "Total charges ($)"} <= changed

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
    table = next(d.value for d in at.dataframe if "changed_flag" in d.value.columns)
    assert not table["changed_flag"].any()
