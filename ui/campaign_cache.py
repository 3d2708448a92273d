"""Cached inputs and exports of the Retention campaign page, and its save-on-download callback.

The scored customers and their ranked offers are a `st.cache_resource` entry keyed by the model
version, a fingerprint of the customers and the business settings, so changing the budget or a
filter only re-runs the (fast) greedy selection, never the scoring. The scoring itself is the
one every page shares (`ui.context.scored`, which ranks every applicable offer): a campaign on
data the Overview has shown costs no second scoring. A resource, not data: the
ranking of 100,000 customers has about a million rows, which `st.cache_data` would unpickle on
every rerun (seconds); the page treats it as read-only.

Speed (100,000 customers): `campaign.build_campaign` and `campaign.saved_revenue_curve` start by
picking each customer's best allowed offer with a positive expected net value out of the whole
ranking (a sort of a million rows, about half a second each). The cached
`churn.campaign_ranking.PreparedRanking` keeps two smaller rankings that give exactly the same
campaigns, and its `ranking_for(offers_allowed)` hands the smallest one that is exact for the
filter. The saved-revenue curve depends on the filters only, not on the budget, so it is
cached per filter set (`curve`).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from churn import campaign as C
from churn.campaign_ranking import PreparedRanking
from ui.text import md


class _Scoring:
    """An engine stand-in for `campaign.campaign_inputs`: hands back a scoring already done
    (`ui.context.scored`, which ranks every applicable offer), so the campaign page does not
    score the customers a second time after the Overview did."""

    def __init__(self, done):
        self._done = done

    def score_all(self, df, settings=None, **kwargs):
        return self._done


@st.cache_resource(max_entries=4, show_spinner="Ranking the offers…")
def inputs(version: str, data_key: str, settings_key: tuple, _engine, _customers,
           _settings) -> PreparedRanking:
    """`PreparedRanking` from `campaign.campaign_inputs`, once per model, data set and settings.

    data_key must be `ui.context.frame_fingerprint(customers)` and the settings the sidebar's:
    the scoring comes from `ui.context.scored` (shared with the other pages)."""
    from ui import context

    done = context.scored(_customers, fingerprint=data_key)
    scored, ranked = C.campaign_inputs(_Scoring(done) if done.ranked is not None else _engine,
                                       _customers, _settings)
    return PreparedRanking.build(scored, ranked)


def filters_key(filters: dict) -> str:
    """A hashable, order-independent key of the page's filters (tiers, segment, min_clv,
    offers_allowed)."""
    def norm(v):
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in sorted(v.items())}
        if isinstance(v, (list, tuple, set)):
            return sorted((norm(x) for x in v), key=str)
        if isinstance(v, np.generic):
            return v.item()
        return v

    return json.dumps(norm(filters), sort_keys=True, default=str)


@st.cache_resource(max_entries=64, show_spinner=False)
def curve(version: str, data_key: str, settings_key: tuple, filters_json: str,
          _inputs: PreparedRanking, _filters: dict) -> pd.DataFrame:
    """`campaign.saved_revenue_curve` over its default budgets (0 to the cost of offering every
    eligible treatment customer their offer), once per filter set (control share and seed
    included). Read-only."""
    return C.saved_revenue_curve(_inputs.scored, _inputs.ranking_for(_filters["offers_allowed"]),
                                 None, **_filters)


def curve_for(version: str, data_key: str, settings_key: tuple, inputs: PreparedRanking, filters: dict,
              budget: float) -> pd.DataFrame:
    """The curve of `curve`, or, for a budget beyond its end, the curve from 0 to `budget`."""
    found = curve(version, data_key, settings_key, filters_key(filters), inputs, filters)
    top = float(found["budget"].iloc[-1]) if len(found) else 0.0
    if budget <= top:
        return found
    return C.saved_revenue_curve(inputs.scored, inputs.ranking_for(filters["offers_allowed"]),
                                 np.linspace(0.0, budget, 41), **filters)


def csv_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as spreadsheet-safe CSV bytes (`campaign.to_csv_bytes`)."""
    return C.to_csv_bytes(rows)


def xlsx_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as spreadsheet-safe .xlsx bytes (`campaign.to_excel_bytes`)."""
    return C.to_excel_bytes(rows)


def save(campaign: C.Campaign, name: str) -> None:
    """"Save campaign" button: keep the campaign (both groups, settings, sizes and date) in the
    store, on purpose; downloads never save anything (issue 16). The outcome is left in
    session state for the page to show."""
    from ui import context

    store = context.store()
    if store is None:
        st.session_state["campaign_saved"] = ("error", "The store cannot be opened right now, so "
                                              "the campaign was not saved; try again.")
        return
    if not str(name).strip():
        st.session_state["campaign_saved"] = ("error", "Give the campaign a name to save it.")
        return
    cid = C.save_campaign(store, campaign, name)
    st.session_state["campaign_saved"] = (
        "ok", f"Saved as campaign {cid}: {md(name.strip())} ({campaign.treated:,} get the offer, "
              f"{campaign.held_out:,} held out as control). Reopen it below, or measure its "
              "results on the Campaign results page.")
