"""Empty states: what a page says when something it needs is not there yet, and where to get it.

Each function draws its message and stops the page (`st.stop`) when the need is not met.
"""
from __future__ import annotations

import streamlit as st

from ui import context
from ui.navigation import MODEL_REPORT


def needs_model(what: str):
    """Return the active model; without one, explain that `what` needs it and stop the page."""
    model = context.active_model()
    if model is None:
        with st.container(key="empty-needs-model"):
            st.info(f"{what} needs a trained churn model, and none has been trained yet.",
                    icon=":material/model_training:")
            st.page_link(MODEL_REPORT, label="Train one on the Model report page",
                         icon=":material/arrow_forward:")
        st.stop()
    return model
