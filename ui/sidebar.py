"""The sidebar every page shares: the data set in use, the active model, the business settings.

`show()` is called by `app.py` on every run, before the page, and records the choices in
`ui.state` so pages read them with `ui.state.dataset()` / `ui.state.settings()`.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from churn.config import BusinessSettings
from ui import context, state
from ui.state import DatasetRef
from ui.widgets import business_settings, dataset_picker

DATASET_KEY = "sidebar.dataset"
SETTINGS_KEY = "sidebar.settings"
#: The URL query parameter that keeps the chosen data set (a reload or a shared link opens the
#: same customers): a data set's key, e.g. ``?customers=saved:march``.
QUERY_KEY = "customers"


@dataclass(frozen=True)
class Choice:
    dataset: DatasetRef
    settings: BusinessSettings


def show() -> Choice:
    """Draw the sidebar; return (and record in session state) what the user chose."""
    with st.sidebar:
        pending = st.session_state.pop(state.PENDING_DATASET, None)
        if pending is None and DATASET_KEY not in st.session_state:   # a new session
            pending = st.query_params.get(QUERY_KEY)
        options = context.datasets()
        ref = dataset_picker.show(DATASET_KEY, options, pending=pending)
        state.set_dataset(ref)
        _keep_in_url(ref, default=options[0])
        st.caption(f":material/groups: {context.population_line()}",
                   help="History: labelled customers (who left is known); the model learns from "
                        "them. Active base: customers still here; every decision is about them. "
                        "Customers who have left are never targeted or counted at risk.")
        _model_line()
        with st.expander("Business settings", icon=":material/settings:"):
            settings = business_settings.show(SETTINGS_KEY)
        state.set_settings(settings)
    return Choice(ref, settings)


def _keep_in_url(ref: DatasetRef, default: DatasetRef) -> None:
    """Put the chosen data set in the URL (none for the default), so a reload keeps it."""
    if ref.key == default.key:
        if QUERY_KEY in st.query_params:
            del st.query_params[QUERY_KEY]
    elif st.query_params.get(QUERY_KEY) != ref.key:
        st.query_params[QUERY_KEY] = ref.key


def _model_line() -> None:
    status = context.model_status()
    st.caption(f":material/model_training: {status.label}", help=status.help)
