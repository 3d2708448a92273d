"""The glossary, reachable from every page: a sidebar popover listing `churn.glossary.TERMS`."""
from __future__ import annotations

import streamlit as st

from churn.glossary import TERMS


def show() -> None:
    """Draw a "Glossary" button in the sidebar that opens every term with its definition."""
    with st.sidebar:
        with st.popover("Glossary", icon=":material/menu_book:", width="stretch"):
            for term, text in TERMS.items():
                st.markdown(f"**{term}**  \n{text}")
