"""The business settings form: margin, discount rate, horizon and risk-tier thresholds.

`show(key)` draws the form and returns a `churn.config.BusinessSettings`. Widget keys:
``{key}.margin``, ``{key}.discount``, ``{key}.horizon`` (integers: percent, percent, months)
and ``{key}.tiers`` (a pair of percents: Medium from, High from), plus ``{key}.reset``.
"""
from __future__ import annotations

import streamlit as st

from churn.config import BusinessSettings

DEFAULTS = BusinessSettings()

HELP = {
    "margin": ("Share of a customer's monthly bill that is profit after the cost of serving "
               "them. Lifetime value and revenue at risk count this share of each bill."),
    "discount": ("What a dollar next year is worth less than a dollar today (your finance "
                 "team's yearly cost of capital). Profit further in the future counts for less."),
    "horizon": ("How far ahead a customer's lifetime value counts future bills. 36 months "
                "counts up to three years."),
    "tiers": ("Churn probability at which a customer counts as Medium risk (left handle) and "
              "High risk (right handle). Below the left handle a customer is Low risk."),
}


def _widget_values(s: BusinessSettings) -> dict[str, object]:
    """Settings -> the widgets' own units (whole percents and months)."""
    return {"margin": round(s.margin * 100), "discount": round(s.annual_discount_rate * 100),
            "horizon": int(s.horizon_months),
            "tiers": (round(s.medium_risk * 100), round(s.high_risk * 100))}


def to_settings(margin: int, discount: int, horizon: int, tiers: tuple[int, int]) -> BusinessSettings:
    """Widget values (percents, months, (medium %, high %)) -> BusinessSettings (0..1 shares)."""
    medium, high = sorted(tiers)
    return BusinessSettings(margin=margin / 100, annual_discount_rate=discount / 100,
                            horizon_months=int(horizon), high_risk=high / 100,
                            medium_risk=medium / 100)


def _reset(key: str, defaults: BusinessSettings) -> None:
    for name, value in _widget_values(defaults).items():
        st.session_state[f"{key}.{name}"] = value


def show(key: str, defaults: BusinessSettings = DEFAULTS) -> BusinessSettings:
    """Draw the settings form; return the chosen settings."""
    for name, value in _widget_values(defaults).items():
        st.session_state.setdefault(f"{key}.{name}", value)
    margin = st.slider("Profit margin", 0, 100, step=1, format="%d%%", key=f"{key}.margin",
                       help=HELP["margin"])
    discount = st.slider("Yearly discount rate", 0, 30, step=1, format="%d%%",
                         key=f"{key}.discount", help=HELP["discount"])
    horizon = st.slider("Value horizon", 6, 120, step=6, format="%d months",
                        key=f"{key}.horizon", help=HELP["horizon"])
    tiers = st.slider("Risk tiers: Medium / High", 1, 99, step=1, format="%d%%",
                      key=f"{key}.tiers", help=HELP["tiers"])
    st.button("Reset to defaults", key=f"{key}.reset", on_click=_reset, args=(key, defaults),
              icon=":material/restart_alt:", width="stretch")
    return to_settings(margin, discount, horizon, tiers)
