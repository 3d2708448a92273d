"""The ui/ helpers that need no running app: number formats, settings mapping,
error messages."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.config import BusinessSettings
from ui import errors
from ui import format as fmt
from ui.widgets import business_settings


@pytest.mark.parametrize("value, text", [
    (1234.4, "$1,234"), (1234.6, "$1,235"), (0, "$0"), (-80, "-$80"),
    (-0.4, "$0"), (1_000_000, "$1,000,000"), (None, "—"), (float("nan"), "—"), ("x", "—"),
])
def test_money(value, text):
    assert fmt.money(value) == text


def test_money_with_cents():
    assert fmt.money(9.5, 2) == "$9.50"
    assert fmt.money(-1234.567, 2) == "-$1,234.57"


@pytest.mark.parametrize("value, text", [
    (950, "$950"), (12_345, "$12.3K"), (4_561_000, "$4.56M"), (1.2e9, "$1.2B"), (-12_345, "-$12.3K"),
    (np.float64(999.4), "$999"), (float("inf"), "—"),
])
def test_money_short(value, text):
    assert fmt.money_short(value) == text


@pytest.mark.parametrize("value, text", [
    (0.2654, "26.5%"), (0.265, "26.5%"), (1, "100.0%"), (0, "0.0%"), (None, "—"),
    (np.float32(0.5), "50.0%"),
])
def test_pct(value, text):
    assert fmt.pct(value) == text


def test_percent_columns_for_grids():
    """Grids show shares with one decimal: the values in percent, formatted by fmt.PERCENT
    (a printf format: 92.94 -> "92.9%", as the pct of the same share)."""
    import pandas as pd

    frame = pd.DataFrame({"churn_prob": [0.9294, 0.862], "clv": [10.0, 20.0]})
    shown = fmt.percent_columns(frame, ["churn_prob", "not_there"])
    assert shown["churn_prob"].tolist() == pytest.approx([92.94, 86.2])
    assert shown["clv"].tolist() == [10.0, 20.0] and frame["churn_prob"].iloc[0] == 0.9294
    assert [fmt.PERCENT % v for v in shown["churn_prob"]] == [fmt.pct(v) for v in
                                                                frame["churn_prob"]]
    assert fmt.percent_columns(frame, ["none"]) is frame


def test_pct_decimals():
    assert fmt.pct(0.12345, 2) == "12.35%"
    assert fmt.pct(0.12345, 0) == "12%"


@pytest.mark.parametrize("value, text", [
    (0.032, "+3.2 pp"), (-0.032, "-3.2 pp"), (0.0, "0.0 pp"), (-0.00001, "0.0 pp"),
    (0.10, "+10.0 pp"), (float("nan"), "—"),
])
def test_pp(value, text):
    assert fmt.pp(value) == text


def test_pp_unsigned():
    assert fmt.pp(0.032, signed=False) == "3.2 pp"


def test_count_and_months():
    assert fmt.count(7043) == "7,043"
    assert fmt.count(np.int64(12)) == "12"
    assert fmt.count(None) == "—"
    assert fmt.months(1) == "1 month"
    assert fmt.months(36) == "36 months"
    assert fmt.months(32.37, 1) == "32.4 months"


def test_settings_widget_round_trip():
    s = business_settings.to_settings(60, 10, 36, (25, 50))
    assert s == BusinessSettings()
    assert business_settings._widget_values(BusinessSettings()) == {
        "margin": 60, "discount": 10, "horizon": 36, "tiers": (25, 50)}


def test_settings_widget_orders_tiers():
    s = business_settings.to_settings(35, 0, 12, (70, 40))
    assert (s.medium_risk, s.high_risk) == (0.40, 0.70)
    assert (s.margin, s.annual_discount_rate, s.horizon_months) == (0.35, 0.0, 12)


def test_user_message_shows_value_errors_but_not_other_internals():
    msg = errors.user_message(ValueError("budget -5 is negative; enter dollars above 0"))
    assert msg == "This page could not be shown: budget -5 is negative; enter dollars above 0"
    msg = errors.user_message(KeyError("MonthlyCharges"))
    assert "MonthlyCharges" not in msg
    assert msg.startswith("Something went wrong on this page.")


def test_user_message_missing_file():
    exc = FileNotFoundError(2, "No such file or directory", "/srv/data/sample/customers.csv")
    msg = errors.user_message(exc, "the sidebar")
    assert msg.startswith("A file the sidebar needs is missing: /srv/data/sample/customers.csv.")
    assert "CHURN_DATA_DIR" in msg
