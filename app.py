"""Churn-retention workbench: the Streamlit entry point (`streamlit run app.py`).

Builds the navigation from `ui.navigation.PAGES`, draws the shared sidebar, then runs the chosen
page. Both run inside `ui.errors.guard`, so a failure becomes a message, never a traceback.
"""
import streamlit as st

from ui import errors, glossary, sidebar
from ui.navigation import PAGES

st.set_page_config(page_title="Churn workbench", page_icon=":material/group_remove:",
                   layout="wide")

page = st.navigation([st.Page(p.file, title=p.title, url_path=p.url_path, icon=p.icon,
                              default=p.default) for p in PAGES])

with errors.guard("the sidebar"):
    sidebar.show()
    glossary.show()

with errors.guard():
    page.run()
