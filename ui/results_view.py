"""The Campaign results page's data access and tables: measuring an upload (cached by its
content), a saved campaign's recorded outcomes, and the by-offer / by-tier tables in plain
words. Every figure comes from `churn.results`."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from churn import campaign as C
from churn import results as R
from ui import format as fmt
from ui.text import md


@st.cache_data(show_spinner="Measuring the campaign…", max_entries=8)
def measure_upload(data: bytes, name: str, campaign_id: int | None, _store) -> R.Results:
    """`results.measure_file` of an uploaded file, against a saved campaign when one is chosen
    (keyed by the file's bytes, its name and the campaign id)."""
    rows = C.reopen_campaign(_store, campaign_id).rows if campaign_id is not None else None
    return R.measure_file(data, rows, name=name)


def measure_recorded(store, campaign_id: int) -> R.Results | None:
    """The outcomes recorded in the campaign history for a saved campaign (None: none yet)."""
    hist = store.load_campaign_history()
    if hist is None:
        return None
    mine = hist[hist["campaign_id"] == campaign_key(campaign_id)]
    if mine.empty:
        return None
    rows = C.reopen_campaign(store, campaign_id).rows
    return R.measure(mine[["customerID", "churned", "accepted"]], rows,
                     name=f"Campaign {campaign_id}")


def campaign_key(campaign_id: int) -> str:
    """The campaign_id a saved campaign's outcomes carry in the campaign history."""
    return f"saved-{int(campaign_id)}"


def _pts(v) -> str:
    return "—" if v is None else f"{v * 100:+.1f}"


def _short_note(m: R.Measure) -> str:
    """Why a row has no uplift, short enough for a table cell (the full note is on hover)."""
    if m.n_control == 0:
        return "Not measured: no control group"
    return f"Not measured: too few (need {R.MIN_GROUP_SIZE} per group)"


def breakdown(items: list, first: str = "Offer") -> pd.DataFrame:
    """by_offer / by_tier measures as a readable table (points, customers, dollars); ``first``
    heads the column that names each row ("Offer", "Risk tier")."""
    return pd.DataFrame({
        first: [m.label for m in items],
        "Treatment": [fmt.count(m.n_treatment) for m in items],
        "Control": [fmt.count(m.n_control) for m in items],
        "Churn, treatment": [fmt.pct(m.rate_treatment) for m in items],
        "Churn, control": [fmt.pct(m.rate_control) for m in items],
        "Measured uplift (points)": [_pts(m.uplift) for m in items],
        "95% interval (points)": [f"{_pts(m.ci95[0])} to {_pts(m.ci95[1])}" if m.measured
                                  else _short_note(m) for m in items],
        "Predicted uplift (points)": [_pts(m.predicted_uplift) for m in items],
        "Saved value": [fmt.money(m.saved_value) if m.saved_value is not None else "—"
                        for m in items],
        "Offer cost": [fmt.money(m.cost) if m.cost is not None else "—" for m in items],
    })


def headline(r: R.Results) -> None:
    """The campaign's measured figures as metric cards."""
    o = r.overall
    c = st.columns(4)
    c[0].metric("Measured uplift", f"{_pts(o.uplift)} pts" if o.measured else "—", border=True,
                help="Control churn rate minus treatment churn rate, in percentage points: how "
                     "much the offers cut churn. " + (f"95% interval {_pts(o.ci95[0])} to "
                                                      f"{_pts(o.ci95[1])} points."
                                                      if o.measured else o.note))
    c[1].metric("Customers kept", f"{o.saved_customers:,.0f}" if o.measured else "—",
                border=True, help=("Uplift × customers who got the offer; 95% interval "
                                   f"{o.saved_customers_ci[0]:,.0f} to "
                                   f"{o.saved_customers_ci[1]:,.0f}." if o.measured else o.note))
    c[2].metric("Saved value", fmt.money_short(o.saved_value) if o.saved_value is not None
                else "—", border=True,
                help=("Customers kept × their lifetime value; 95% interval "
                      f"{fmt.money(o.saved_value_ci[0])} to {fmt.money(o.saved_value_ci[1])}."
                      if o.saved_value is not None else "Needs the clv column of the export."))
    c[3].metric("Return on the offers", fmt.pct(o.roi) if o.roi is not None else "—",
                border=True, help=("(Saved value − offer cost) / offer cost; offer cost "
                                   f"{fmt.money(o.cost)}; 95% interval {fmt.pct(o.roi_ci[0])} to "
                                   f"{fmt.pct(o.roi_ci[1])}." if o.roi is not None else
                                   "Needs a measured uplift, the clv and offer_cost columns."))
    if (line := interval_line(r)) is not None:
        st.caption(md(line))  # dollar signs must not start LaTeX


def interval_line(r: R.Results) -> str | None:
    """The four cards' 95% intervals in one line (None when nothing was measured)."""
    o = r.overall
    if not o.measured:
        return None
    parts = [f"uplift {_pts(o.ci95[0])} to {_pts(o.ci95[1])} points",
             f"customers kept {o.saved_customers_ci[0]:,.0f} to {o.saved_customers_ci[1]:,.0f}"]
    if o.saved_value is not None:
        parts.append(f"saved value {fmt.money(o.saved_value_ci[0])} to "
                     f"{fmt.money(o.saved_value_ci[1])}")
    if o.roi is not None and o.roi_ci:
        parts.append(f"return {fmt.pct(o.roi_ci[0])} to {fmt.pct(o.roi_ci[1])}")
    return "95% intervals: " + "; ".join(parts) + "."
