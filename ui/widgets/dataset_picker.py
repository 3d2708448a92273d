"""Choose the customers every page works on.

`show(key, options)` draws a select box over `ui.state.DatasetRef`s and returns the chosen one.
"""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui.state import DatasetRef

HELP = ("The customers every page works on: the sample shipped with the app, a file "
        "uploaded on the Upload & score page in this session, or a batch saved there (saved "
        "batches are available to everyone).")


def show(key: str, options: Sequence[DatasetRef], pending: str | None = None) -> DatasetRef:
    """Draw the picker; return the chosen data set.

    pending: an option key to select now (a page asked for it, e.g. right after an upload).
    A remembered choice that is no longer offered falls back to the first option.
    """
    if not options:
        raise ValueError("no data set to choose from: the sample is missing and nothing was "
                         "uploaded")
    by_key = {o.key: o for o in options}
    if pending in by_key:
        st.session_state[key] = pending
    elif st.session_state.get(key) not in by_key:
        st.session_state[key] = options[0].key
    chosen = st.selectbox("Customers", list(by_key), key=key, help=HELP,
                          format_func=lambda k: by_key[k].label)
    return by_key[chosen]
