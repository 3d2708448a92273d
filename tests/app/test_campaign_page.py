"""AppTest: the "Retention campaign" page with a trained model.

Uses the shared trained data folder of the page tests (sample + a quickly trained model), and
checks what the page shows against the core functions it calls with the same inputs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402

from churn import campaign as C  # noqa: E402
from churn.config import BusinessSettings, paths  # noqa: E402
from churn.scoring import Engine  # noqa: E402
from churn.validate import load_customers  # noqa: E402

PAGE = "app_pages/4_Retention_campaign.py"


@pytest.fixture(scope="module")
def core(data_dir):
    """(scored, ranked) exactly as the page computes them, from the core."""
    eng = Engine.load(paths(data_dir))
    customers = load_customers(paths(data_dir).customers_csv)
    return C.campaign_inputs(eng, customers, BusinessSettings())


@pytest.fixture
def at(data_dir) -> AppTest:
    return open_page(PAGE, timeout=240)


def _metric(app: AppTest, label: str) -> str:
    return next(m for m in app.metric if m.label == label).value


def _table(app: AppTest, column: str):
    """The first data frame on the page that has `column` (AppTest frames carry no key)."""
    for frame in app.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column on the page")


def _dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_the_list_matches_the_core_campaign_for_the_budget(at, core):
    scored, ranked = core
    at.number_input(key="campaign_budget").set_value(2500.0).run()
    _ok(at)
    expected = C.build_campaign(scored, ranked, 2500.0)
    assert int(_metric(at, "Customers to contact").replace(",", "")) == expected.customers
    spent = _dollars(_metric(at, "Offer cost"))
    assert spent == pytest.approx(expected.spent, abs=0.5)
    assert spent <= 2500.0
    shown = _table(at, "offer_id")
    assert list(shown["customerID"]) == list(expected.rows["customerID"])


def test_a_bigger_budget_contacts_more_customers_and_never_overspends(at):
    at.number_input(key="campaign_budget").set_value(500.0).run()
    small = int(_metric(at, "Customers to contact").replace(",", ""))
    assert _dollars(_metric(at, "Offer cost")) <= 500.0
    at.number_input(key="campaign_budget").set_value(5000.0).run()
    _ok(at)
    big = int(_metric(at, "Customers to contact").replace(",", ""))
    assert big > small > 0
    assert _dollars(_metric(at, "Offer cost")) <= 5000.0


def test_offers_allowed_filter_limits_the_list_to_those_offers(at):
    at.multiselect(key="campaign_offers").set_value(["onboarding_call"]).run()
    _ok(at)
    shown = _table(at, "offer_id")
    assert len(shown) > 0
    assert set(shown["offer_id"]) == {"onboarding_call"}


def test_top3_shows_the_rule_part_and_the_collaborative_part_separately(at):
    table = _table(at, "Rank")
    assert {"Rule part (risk driver)", "Collaborative part (chance of acceptance)"} <= \
        set(table.columns)
    assert 1 <= len(table) <= 3
    assert list(table["Rank"]) == list(range(1, len(table) + 1))
    assert at.get("download_button")  # CSV and Excel exports are offered
