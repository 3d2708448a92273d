"""Cached inputs and exports of the Retention campaign page, and its save-on-download callback.

The scored customers and their ranked offers are a `st.cache_resource` entry keyed by the model
version, a fingerprint of the customers and the business settings, so changing the budget or a
filter only re-runs the (fast) greedy selection, never the scoring. A resource, not data: the
ranking of 100,000 customers has about a million rows, which `st.cache_data` would unpickle on
every rerun (seconds); the page treats it as read-only.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from churn import campaign as C
from ui import context


@st.cache_resource(max_entries=4, show_spinner="Scoring the customers and ranking their offers…")
def inputs(version: str, data_key: str, settings_key: tuple, _engine, _customers, _settings):
    """(scored, ranked) of `campaign.campaign_inputs`, once per model, data set and settings."""
    return C.campaign_inputs(_engine, _customers, _settings)


@st.cache_data(max_entries=16, show_spinner=False)
def csv_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as spreadsheet-safe CSV bytes (`campaign.to_csv_bytes`)."""
    return C.to_csv_bytes(rows)


@st.cache_data(max_entries=16, show_spinner="Writing the Excel file…")
def xlsx_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as spreadsheet-safe .xlsx bytes (`campaign.to_excel_bytes`)."""
    return C.to_excel_bytes(rows)


def save(campaign: C.Campaign, name: str, kind: str) -> None:
    """Download-button callback: keep the exported campaign (rows and settings) in the store."""
    store = context.store()
    if store is None:
        return
    settings = dict(campaign.settings, export=kind)
    cid = C.save_campaign(store, C.Campaign(campaign.rows, settings), name or "Campaign")
    st.session_state["campaign_saved"] = f"Saved as campaign {cid} ({name}, {kind.upper()})."
