"""Empty states: what a page says when something it needs is not there yet, and where to get it.

Each function draws its message and stops the page (`st.stop`) when the need is not met.
"""
from __future__ import annotations

import streamlit as st

from ui import context
from ui.navigation import MODEL_REPORT


def needs_model(what: str):
    """Return the active model. On a first start (no model yet) train one on the sample, with a
    progress bar, then rerun so the sidebar shows it; if that fails, say so and stop the page."""
    model = context.active_model()
    if model is not None:
        return model
    with st.container(key="empty-needs-model"):
        note = st.info(f"{what} needs a trained churn model. First start: training the models "
                       "on the sample customers now (about a minute, only this once)…",
                       icon=":material/model_training:")
        try:
            context.engine()  # trains and fits everything, with a progress bar
        except Exception:  # noqa: BLE001 - shown as a message, logged with the traceback
            import logging

            logging.getLogger("churn.app").exception("first-start training failed")
            note.empty()
            st.error("The churn models could not be trained on the sample. Check the server "
                     "log, or train from the command line: `python -m churn train`.",
                     icon=":material/error:")
            st.page_link(MODEL_REPORT, label="Open the Model report page",
                         icon=":material/arrow_forward:")
            st.stop()
    st.rerun()
